/** Usage mistakes exit 2 with the command's usage, whichever command makes them. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { NODE, ROOT } from "../support/harness.ts";

test.each(["up --bogus", "up extra", "core --bogus", "status --bogus", "module validate --bogus"])(
  "outrig %s exits 2 with usage",
  (line) => {
    const argv = line.split(" ");
    const run = spawnSync(NODE, [join(ROOT, "bin/outrig.js"), ...argv], {
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^outrig ${argv[0]}: .*\\n\\nUsage: outrig ${argv[0]} `));
  },
);
