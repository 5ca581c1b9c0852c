import type { z } from "zod";
import { OutrigError } from "../../../errors/index.ts";
import { parseJsonBody, readBody } from "../body.ts";
import { mediaTypeOf } from "../request-headers.ts";
import type { RequestContext } from "../types.ts";

/**
 * Reads an admin call's JSON body and validates it: not JSON-typed is 415, not JSON is
 * `core.request.invalid_json`, not the schema is `core.admin.invalid` naming the first
 * problems. `emptyAs` stands for an empty body (absent: an empty body is not JSON).
 */
export async function readJsonBody<T>(
  ctx: RequestContext,
  limit: number,
  schema: z.ZodType<T>,
  what: string,
  options: { emptyAs?: unknown } = {},
): Promise<T> {
  if (!mediaTypeOf(ctx.req).json) {
    throw OutrigError.fromCode("core.request.unsupported_media_type", {
      message: `The ${what} body must be application/json.`,
    });
  }
  const body = await readBody(ctx.req, limit, ctx.signal);
  const value = body.length === 0 && "emptyAs" in options ? options.emptyAs : parseJsonBody(body);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(body)"}: ${issue.message}`);
    throw OutrigError.fromCode("core.admin.invalid", { message: `Invalid ${what}: ${problems.join("; ")}` });
  }
  return parsed.data;
}
