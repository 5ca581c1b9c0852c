import type { Logger } from "pino";
import { z } from "zod";
import { OutrigError } from "../../../errors/index.ts";
import { MODULE_ID_PATTERN } from "../../../spi/descriptor.ts";
import type { ModuleAdmin, ModuleStatus } from "../../types.ts";
import { readBody } from "../body.ts";
import { sendJson } from "../respond.ts";
import type { Router } from "../router.ts";
import type { RequestContext } from "../types.ts";
import { readJsonBody } from "./admin-body.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Body of `POST /admin/modules/:module/upgrade`; every field optional, unknown keys refused. */
const upgradeSpecSchema = z.strictObject({
  command: z.string().min(1).max(4096).optional(),
  args: z.array(z.string().max(65_536)).max(1024).optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME, "must be an environment variable name").max(256),
      z.string().max(65_536),
    )
    .refine((env) => Object.keys(env).length <= 1024, "at most 1024 variables")
    .optional(),
});

export interface AdminDeps {
  admin: ModuleAdmin;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * The admin API. Each mutating call waits for the operation and answers 200 with the
 * module's status; `?wait=false` answers 202 as soon as the operation has started (a
 * quick refusal, such as a conflict, still comes back as an error).
 */
export function registerAdminRoutes(router: Router, deps: AdminDeps): void {
  const { admin } = deps;

  router.add("GET", "/admin/modules", async (ctx) => {
    sendJson(ctx, 200, { modules: admin.list() });
  });

  router.add("GET", "/admin/modules/:module", async (ctx) => {
    sendJson(ctx, 200, { module: moduleOr404(admin, ctx.params.module!) });
  });

  router.add("POST", "/admin/modules/:module/restart", async (ctx) => {
    const id = moduleOr404(admin, ctx.params.module!).id;
    const wait = waitOf(ctx);
    await readBody(ctx.req, deps.maxBodyBytes, ctx.signal);
    await run(ctx, deps, id, "restart", wait, () => admin.restart(id));
  });

  router.add("POST", "/admin/modules/:module/upgrade", async (ctx) => {
    const id = moduleOr404(admin, ctx.params.module!).id;
    const wait = waitOf(ctx);
    // An empty body upgrades to the configured command again.
    const empty = { emptyAs: {} };
    const spec = await readJsonBody(ctx, deps.maxBodyBytes, upgradeSpecSchema, "upgrade request", empty);
    await run(ctx, deps, id, "upgrade", wait, () => admin.upgrade(id, spec));
  });

  router.add("POST", "/admin/modules/:module/instances/:instance/drain", async (ctx) => {
    const status = moduleOr404(admin, ctx.params.module!);
    const instance = ctx.params.instance!;
    if (!status.instances.some((i) => i.id === instance)) {
      throw OutrigError.fromCode("core.admin.instance_not_found", { details: { module: status.id } });
    }
    const wait = waitOf(ctx);
    await readBody(ctx.req, deps.maxBodyBytes, ctx.signal);
    await run(ctx, deps, status.id, "drain", wait, () => admin.drainInstance(status.id, instance));
  });
}

function moduleOr404(admin: ModuleAdmin, id: string): ModuleStatus {
  const status = MODULE_ID_PATTERN.test(id) ? admin.get(id) : undefined;
  if (!status) throw OutrigError.fromCode("core.invoke.module_not_found");
  return status;
}

function waitOf(ctx: RequestContext): boolean {
  const wait = new URLSearchParams(ctx.search).get("wait");
  if (wait === null || wait === "true") return true;
  if (wait === "false") return false;
  throw OutrigError.fromCode("core.admin.invalid", { message: "The wait parameter must be true or false." });
}

async function run(
  ctx: RequestContext,
  deps: AdminDeps,
  moduleId: string,
  action: string,
  wait: boolean,
  operation: () => Promise<void>,
): Promise<void> {
  // Never the request body: an upgrade's env may carry secrets.
  const log = deps.logger.child({ module_id: moduleId, correlation_id: ctx.correlationId });
  log.info({ action, remote: ctx.remoteAddress }, "admin request");
  const done = operation();
  if (wait) {
    await done;
    sendJson(ctx, 200, { module: deps.admin.get(moduleId) });
    return;
  }
  const pending = Symbol("pending");
  const first = await Promise.race([done, new Promise<symbol>((resolve) => setImmediate(resolve, pending))]);
  if (first === pending) {
    done.catch((error: unknown) => log.warn({ action, err: error }, "admin operation failed"));
  }
  sendJson(ctx, 202, { accepted: true, module: deps.admin.get(moduleId) });
}
