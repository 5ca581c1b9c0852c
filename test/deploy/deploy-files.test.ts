/**
 * The deployment files cannot run here (no container engine), so they are checked for
 * what can break silently: they parse, every embedded Outrig config passes the real
 * validator, and every path and environment contract they rely on exists.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { validateConfig } from "../../src/core/config/load.ts";
import { ENV } from "../../src/spi/env.ts";
import { ROOT } from "../support/harness.ts";

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

test("the compose file parses, mounts an existing, valid config, and runs built entry points", () => {
  const compose = parse(read("docker-compose.yml"), { merge: true }) as {
    services: Record<
      string,
      { volumes?: string[]; entrypoint?: string[]; environment?: Record<string, string> }
    >;
  };
  expect(Object.keys(compose.services).sort()).toEqual(["core", "echo"]);
  const mount = compose.services.core!.volumes![0]!.split(":")[0]!;
  expect(existsSync(join(ROOT, mount))).toBe(true);
  const config = validateConfig(parse(read(mount)), mount, ROOT);
  expect(config.modules.map((m) => [m.id, m.launch])).toEqual([["echo", "attached"]]);
  const echo = compose.services.echo!;
  expect(existsSync(join(ROOT, echo.entrypoint![1]!.replace("dist/", "")).replace(".js", ".ts"))).toBe(true);
  for (const key of [ENV.coreAddress, ENV.bootstrapToken, ENV.listen])
    expect(echo.environment).toHaveProperty(key);
  expect(echo.environment![ENV.coreAddress]).toBe(config.spi.tcp_listen);
});

test("the Kubernetes manifests parse and embed a valid config", () => {
  const docs = parseAllDocuments(read("deploy/kubernetes/outrig.yaml")).map(
    (d) => d.toJS() as Record<string, unknown>,
  );
  expect(docs.map((d) => d.kind)).toEqual(["Secret", "ConfigMap", "Deployment"]);
  const configMap = docs[1] as { data: Record<string, string> };
  const config = validateConfig(parse(configMap.data["outrig.yaml"]!), "configmap", ROOT);
  expect(config.spi.bootstrap_token).toEqual({ env: ENV.bootstrapToken });
  const pod = (
    docs[2] as {
      spec: { template: { spec: { containers: Array<{ name: string; env: Array<{ name: string }> }> } } };
    }
  ).spec.template.spec;
  const sidecar = pod.containers.find((c) => c.name === "echo")!;
  expect(sidecar.env.map((e) => e.name)).toEqual(
    expect.arrayContaining([ENV.coreAddress, ENV.listen, ENV.bootstrapToken, ENV.instanceId]),
  );
});

test("the image copies what the CLI needs at run time", () => {
  const dockerfile = read("deploy/Dockerfile");
  for (const dir of ["dist", "bin", "config", "node_modules"])
    expect(dockerfile).toContain(`COPY --from=build /app/${dir}`);
  expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/outrig.js"\]/);
});
