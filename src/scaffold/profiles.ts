/**
 * What `outrig module init` writes for each profile: a minimal module that really does
 * what its manifest declares (declared capabilities are implemented, nothing more),
 * and the calls its test makes. The generated code uses only erasable TypeScript, so
 * Node runs it as is.
 */
import type { ProfileName } from "../manifest/vocabulary.ts";

export interface ScaffoldContext {
  id: string;
  version: string;
  /** First segment of the module's error codes (`<family>.<operation>.<reason>`). */
  family: string;
}

export interface ScaffoldCall {
  title: string;
  /** Omitted: the descriptor's first unary operation (what `outrig module smoke` calls). */
  operation?: string;
  input?: unknown;
  /** TypeScript statements asserting on `output`. */
  assert: string;
}

export interface ProfileTemplate {
  /** One sentence for the manifest and the descriptor. */
  description: string;
  /** Declared capabilities: each one is implemented by `source`. */
  capabilities: string[];
  /** What the operations are, for the README. */
  explain: string;
  /** The module definition file (module.ts). */
  source: (ctx: ScaffoldContext) => string;
  calls: ScaffoldCall[];
}

const HEADER = (ctx: ScaffoldContext, what: string) => `/**
 * The ${ctx.id} module: ${what}
 * Declared in outrig.module.yaml; served by main.ts. Handlers get the JSON input and
 * return JSON; throw with \`fail\` to send a typed error (docs/errors.md).
 */`;

/** A value as a TypeScript literal in the house style: `{ key: "v" }`, `["a", "b"]`. */
export function jsLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsLiteral).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(
      ([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${jsLiteral(v)}`,
    );
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return JSON.stringify(value);
}

const AS_OBJECT = `function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}`;

const definitionHead = (ctx: ScaffoldContext, profile: ProfileName, template: ProfileTemplate) =>
  `export default defineModule({
  id: ${JSON.stringify(ctx.id)},
  version: ${JSON.stringify(ctx.version)},
  profile: ${JSON.stringify(profile)},
  description: ${JSON.stringify(template.description)},
  // Only what this file implements; the manifest declares the same list.
  capabilities: ${jsLiteral(template.capabilities)},`;

const mcp: ProfileTemplate = {
  description: "A minimal MCP server with one tool, echo.",
  capabilities: ["tools"],
  explain:
    "Each operation is one MCP method: `tools/list` lists the tools, `tools/call` runs one. The only tool, `echo`, returns the text it is given.",
  source: (ctx) => `${HEADER(ctx, "a minimal MCP server (profile mcp) with one tool, `echo`.")}
import { defineModule, fail } from "outrig/sdk";

const TOOLS = [
  {
    name: "echo",
    description: "Returns the text it is given.",
    inputSchema: {
      type: "object",
      properties: { text: { type: "string", description: "Text to echo." } },
      required: ["text"],
    },
  },
];

${AS_OBJECT}

${definitionHead(ctx, "mcp", mcp)}
  operations: {
    "tools/list": {
      description: "MCP tools/list: the tools this server offers.",
      idempotent: true,
      handler: () => ({ tools: TOOLS }),
    },
    "tools/call": {
      description: "MCP tools/call: runs a tool with its arguments.",
      handler: (req) => {
        const params = asObject(req.input);
        if (params.name !== "echo") {
          fail("NOT_FOUND", "${ctx.family}.tools.unknown_tool", \`No tool named \${JSON.stringify(params.name)}.\`);
        }
        const text = asObject(params.arguments).text;
        if (typeof text !== "string") {
          fail("INVALID_ARGUMENT", "${ctx.family}.tools.invalid_arguments", "echo needs a string \`text\` argument.");
        }
        return { content: [{ type: "text", text }], isError: false };
      },
    },
  },
});
`,
  calls: [
    {
      title: "tools/list lists the echo tool",
      assert: `const tools = (output as { tools: Array<{ name: string }> }).tools;
  assert.deepEqual(
    tools.map((t) => t.name),
    ["echo"],
  );`,
    },
    {
      title: "tools/call runs the echo tool",
      operation: "tools/call",
      input: { name: "echo", arguments: { text: "hello" } },
      assert: `assert.deepEqual(output, { content: [{ type: "text", text: "hello" }], isError: false });`,
    },
  ],
};

const a2a: ProfileTemplate = {
  description: "A minimal A2A agent with one skill, echo.",
  capabilities: ["discovery", "invoke"],
  explain:
    "`agent/card` returns the agent card (discovery); `message/send` answers a message (invoke) by echoing its text parts.",
  source: (ctx) => `${HEADER(ctx, "a minimal A2A agent (profile a2a) with one skill, `echo`.")}
import { randomUUID } from "node:crypto";
import { defineModule, fail } from "outrig/sdk";

${AS_OBJECT}

${definitionHead(ctx, "a2a", a2a)}
  operations: {
    "agent/card": {
      description: "The agent card: who this agent is and what it can do.",
      idempotent: true,
      handler: () => ({
        name: ${JSON.stringify(ctx.id)},
        description: ${JSON.stringify(a2a.description)},
        version: ${JSON.stringify(ctx.version)},
        capabilities: { streaming: false, pushNotifications: false },
        defaultInputModes: ["text/plain"],
        defaultOutputModes: ["text/plain"],
        skills: [
          { id: "echo", name: "Echo", description: "Replies with the text it receives.", tags: ["echo"] },
        ],
      }),
    },
    "message/send": {
      description: "A2A message/send: replies to a message with its text.",
      handler: (req) => {
        const message = asObject(asObject(req.input).message);
        const parts = Array.isArray(message.parts) ? message.parts.map(asObject) : [];
        const texts = parts.filter((p) => p.kind === "text" && typeof p.text === "string").map((p) => p.text);
        if (texts.length === 0) {
          fail("INVALID_ARGUMENT", "${ctx.family}.message.no_text", "message.parts needs at least one text part.");
        }
        return {
          kind: "message",
          role: "agent",
          messageId: randomUUID(),
          parts: [{ kind: "text", text: texts.join("\\n") }],
        };
      },
    },
  },
});
`,
  calls: [
    {
      title: "agent/card describes the echo skill",
      assert: `const card = output as { skills: Array<{ id: string }> };
  assert.deepEqual(
    card.skills.map((s) => s.id),
    ["echo"],
  );`,
    },
    {
      title: "message/send echoes the text",
      operation: "message/send",
      input: { message: { role: "user", parts: [{ kind: "text", text: "hello" }] } },
      assert: `const reply = output as { role: string; parts: unknown[] };
  assert.equal(reply.role, "agent");
  assert.deepEqual(reply.parts, [{ kind: "text", text: "hello" }]);`,
    },
  ],
};

const llm: ProfileTemplate = {
  description: "A minimal LLM module: one model that echoes the last user message.",
  capabilities: ["models", "chat_completions"],
  explain:
    "`models` lists the one model (OpenAI list shape); `chat/completions` answers an OpenAI-style chat completion by echoing the last user message. Replace the echo with a call to your model.",
  source: (
    ctx,
  ) => `${HEADER(ctx, "a minimal LLM module (profile llm) whose one model echoes the last user message.")}
import { randomUUID } from "node:crypto";
import { defineModule, fail } from "outrig/sdk";

const MODEL = ${JSON.stringify(`${ctx.id}-echo`)};

${AS_OBJECT}

${definitionHead(ctx, "llm", llm)}
  operations: {
    models: {
      description: "The models this module serves (OpenAI list shape).",
      idempotent: true,
      handler: () => ({
        object: "list",
        data: [{ id: MODEL, object: "model", created: 0, owned_by: ${JSON.stringify(ctx.id)} }],
      }),
    },
    "chat/completions": {
      description: "OpenAI-style chat completion; the answer echoes the last user message.",
      handler: (req) => {
        const input = asObject(req.input);
        const messages = Array.isArray(input.messages) ? input.messages.map(asObject) : [];
        const last = messages.filter((m) => m.role === "user").at(-1);
        if (typeof last?.content !== "string") {
          fail(
            "INVALID_ARGUMENT",
            "${ctx.family}.chat.no_user_message",
            "messages needs a user message with string content.",
          );
        }
        return {
          id: \`chatcmpl-\${randomUUID()}\`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: MODEL,
          choices: [
            { index: 0, message: { role: "assistant", content: last.content }, finish_reason: "stop" },
          ],
        };
      },
    },
  },
});
`,
  calls: [
    {
      title: "models lists the echo model",
      assert: `const list = output as { data: Array<{ id: string }> };
  assert.equal(list.data.length, 1);`,
    },
    {
      title: "chat/completions echoes the last user message",
      operation: "chat/completions",
      input: { messages: [{ role: "user", content: "hello" }] },
      assert: `const completion = output as { choices: Array<{ message: { content: string } }> };
  assert.equal(completion.choices[0]?.message.content, "hello");`,
    },
  ],
};

const rest: ProfileTemplate = {
  description: "A minimal REST module: GET /hello, described by its OpenAPI document.",
  capabilities: ["openapi"],
  explain:
    "`hello` serves `GET /hello?name=...`; `openapi` returns the OpenAPI 3.1 document that maps the route to the operation.",
  source: (
    ctx,
  ) => `${HEADER(ctx, "a minimal REST module (profile rest): `GET /hello` and its OpenAPI document.")}
import { defineModule } from "outrig/sdk";

${AS_OBJECT}

const OPENAPI = {
  openapi: "3.1.0",
  info: { title: ${JSON.stringify(ctx.id)}, version: ${JSON.stringify(ctx.version)} },
  paths: {
    "/hello": {
      get: {
        operationId: "hello",
        parameters: [{ name: "name", in: "query", required: false, schema: { type: "string" } }],
        responses: {
          "200": {
            description: "A greeting.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { message: { type: "string" } },
                  required: ["message"],
                },
              },
            },
          },
        },
      },
    },
  },
};

${definitionHead(ctx, "rest", rest)}
  operations: {
    hello: {
      description: "GET /hello: a greeting for \`name\` (default: world).",
      idempotent: true,
      handler: (req) => {
        const name = asObject(req.input).name;
        return { message: \`Hello, \${typeof name === "string" && name !== "" ? name : "world"}!\` };
      },
    },
    openapi: {
      description: "The OpenAPI document of this module's routes.",
      idempotent: true,
      handler: () => OPENAPI,
    },
  },
});
`,
  calls: [
    {
      title: "hello greets the world by default",
      assert: `assert.deepEqual(output, { message: "Hello, world!" });`,
    },
    {
      title: "hello greets by name",
      operation: "hello",
      input: { name: "Ada" },
      assert: `assert.deepEqual(output, { message: "Hello, Ada!" });`,
    },
    {
      title: "openapi maps GET /hello to the hello operation",
      operation: "openapi",
      assert: `const doc = output as { paths: Record<string, { get: { operationId: string } }> };
  assert.equal(doc.paths["/hello"]?.get.operationId, "hello");`,
    },
  ],
};

const grpc: ProfileTemplate = {
  description: "A minimal gRPC module: the Greeter service's SayHello method, with JSON messages.",
  capabilities: [],
  explain:
    "One operation per gRPC method, named `<package>.<service>/<method>` in lower case: `helloworld.greeter/say_hello` takes `{ name }` and returns `{ message }` (the proto3 JSON mapping). No profile capability (relay, reflection, ...) is declared, because none is implemented.",
  source: (
    ctx,
  ) => `${HEADER(ctx, "a minimal gRPC module (profile grpc): Greeter.SayHello, with JSON messages.")}
import { defineModule } from "outrig/sdk";

${AS_OBJECT}

${definitionHead(ctx, "grpc", grpc)}
  operations: {
    "helloworld.greeter/say_hello": {
      description: "helloworld.Greeter/SayHello: { name } → { message }.",
      idempotent: true,
      handler: (req) => {
        const name = asObject(req.input).name;
        return { message: \`Hello, \${typeof name === "string" && name !== "" ? name : "world"}!\` };
      },
    },
  },
});
`,
  calls: [
    {
      title: "SayHello greets by name",
      input: { name: "Ada" },
      assert: `assert.deepEqual(output, { message: "Hello, Ada!" });`,
    },
  ],
};

const custom: ProfileTemplate = {
  description: "A minimal custom module with one operation, echo.",
  capabilities: ["echo"],
  explain:
    "`echo` returns its JSON input. Add operations to module.ts; declare new capabilities in both files.",
  source: (ctx) => `${HEADER(ctx, "a minimal custom module with one operation, `echo`.")}
import { defineModule } from "outrig/sdk";

${definitionHead(ctx, "custom", custom)}
  operations: {
    echo: {
      description: "Returns its JSON input.",
      idempotent: true,
      handler: (req) => ({ echo: req.input }),
    },
  },
});
`,
  calls: [
    { title: "echo returns an empty input", assert: `assert.deepEqual(output, { echo: {} });` },
    {
      title: "echo returns its input",
      operation: "echo",
      input: { hello: "outrig" },
      assert: `assert.deepEqual(output, { echo: { hello: "outrig" } });`,
    },
  ],
};

export const PROFILE_TEMPLATES: Readonly<Record<ProfileName, ProfileTemplate>> = {
  mcp,
  a2a,
  llm,
  rest,
  grpc,
  custom,
};
