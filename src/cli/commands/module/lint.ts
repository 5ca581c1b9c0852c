import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { checkManifestFile, type ManifestCheck, reportPasses } from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import type { Command } from "../../command.ts";
import { failureJson, failureText, issueLines, printJson } from "./report.ts";

/**
 * Which files are manifests: `outrig.module.<ext>` (the one manifest of a module's own
 * directory) and `<name>.manifest.<ext>` (several side by side, as in examples/).
 */
export const MANIFEST_FILE_PATTERN = /^(?:outrig\.module|.+\.manifest)\.(?:json|toml|ya?ml)$/i;
/** Never descended into: dependencies, VCS data, build output. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", "dist", "coverage"]);

/** Manifest files under `root`, sorted; symbolic links are not followed (no loops). */
export async function findManifestFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) pending.push(path);
      } else if (entry.isFile() && MANIFEST_FILE_PATTERN.test(entry.name)) {
        found.push(path);
      }
    }
  }
  return found.sort();
}

type Status = "ok" | "fail" | "unreadable";

function statusOf(check: ManifestCheck, strict: boolean): Status {
  if (!check.ok) return "unreadable";
  return reportPasses(check.report, strict) ? "ok" : "fail";
}

export const lintSubcommand: Command = {
  name: "lint",
  summary: "Validate every manifest under a directory and print a summary table",
  usage: [
    "Usage: outrig module lint [dir] [--json] [--strict-warnings]",
    "  Checks files named outrig.module.{json,toml,yaml,yml} and *.manifest.{json,toml,yaml,yml}",
    "  (skipping node_modules, .git, dist, coverage). Exit 0 all pass, 1 some invalid, 2 some unreadable.",
    "  --json             print the results as JSON",
    "  --strict-warnings  warnings fail too",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { json: { type: "boolean" }, "strict-warnings": { type: "boolean" } },
      { min: 0, max: 1, names: "the directory" },
    );
    const root = positionals[0] ?? ".";
    const strict = values["strict-warnings"] === true;
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      console.error(`${root}: not a directory`);
      return 2;
    }
    const files = await findManifestFiles(root);
    const results = [];
    for (const file of files) {
      const check = await checkManifestFile(file);
      results.push({ file: relative(root, file) || file, check, status: statusOf(check, strict) });
    }
    const summary = {
      total: results.length,
      passed: results.filter((r) => r.status === "ok").length,
      failed: results.filter((r) => r.status === "fail").length,
      unreadable: results.filter((r) => r.status === "unreadable").length,
    };
    const exitCode = summary.unreadable > 0 ? 2 : summary.failed > 0 ? 1 : 0;

    if (values.json) {
      printJson(
        {
          root,
          summary,
          files: results.map(({ file, check, status }) =>
            check.ok
              ? {
                  file,
                  status,
                  format: check.format,
                  counts: check.report.counts,
                  issues: check.report.issues,
                }
              : { file, status, error: failureJson(check) },
          ),
        },
        false,
      );
      return exitCode;
    }
    if (results.length === 0) {
      console.log(`no manifests under ${root} (looked for outrig.module.* and *.manifest.*)`);
      return 0;
    }
    const rows = results.map(({ file, check, status }) => [
      file,
      check.ok ? check.format : "-",
      check.ok ? String(check.report.counts.error) : "-",
      check.ok ? String(check.report.counts.warning) : "-",
      check.ok ? String(check.report.counts.advisory) : "-",
      status,
    ]);
    const header = ["MANIFEST", "FORMAT", "ERRORS", "WARNINGS", "ADVISORIES", "STATUS"];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd();
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    for (const { file, check } of results) {
      if (!check.ok) {
        console.log(`\n${failureText(file, check)}`);
        continue;
      }
      const shown = check.report.issues.filter((i) => i.severity !== "advisory");
      if (shown.length > 0) console.log(`\n${file}:\n${issueLines(shown).join("\n")}`);
    }
    console.log(
      `\n${summary.total} manifest${summary.total === 1 ? "" : "s"}: ${summary.passed} passed, ${summary.failed} failed, ${summary.unreadable} unreadable`,
    );
    return exitCode;
  },
};
