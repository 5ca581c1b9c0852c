/** Shared rendering of manifest reports for the `outrig module` subcommands. */
import type { LoadFailure, ManifestIssue, Severity } from "../../../manifest/index.ts";

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function countsText(counts: Record<Severity, number>): string {
  return `${plural(counts.error, "error")}, ${plural(counts.warning, "warning")}, ${plural(counts.advisory, "advisory").replace("advisorys", "advisories")}`;
}

/** One aligned line per issue: severity, code, path, message. */
export function issueLines(issues: readonly ManifestIssue[], indent = "  "): string[] {
  const codeWidth = Math.max(0, ...issues.map((i) => i.code.length));
  const pathWidth = Math.min(40, Math.max(0, ...issues.map((i) => i.path.length)));
  return issues.map(
    (i) =>
      `${indent}${i.severity.padEnd(8)} ${i.code.padEnd(codeWidth)}  ${i.path.padEnd(pathWidth)}  ${i.message}`,
  );
}

/** The text of a parse or read failure; its message carries the position and every parser tried. */
export function failureText(file: string, failure: LoadFailure): string {
  return `${file}: ${failure.format ? `cannot parse as ${failure.format}: ` : ""}${failure.message} [${failure.code}]`;
}

/** The JSON form of a failure for --json output (snake_case, like the manifest). */
export function failureJson(failure: LoadFailure): Record<string, unknown> {
  return {
    code: failure.code,
    message: failure.message,
    ...(failure.format ? { format: failure.format } : {}),
    ...(failure.line === undefined ? {} : { line: failure.line, column: failure.column }),
    ...(failure.attempts ? { attempts: failure.attempts } : {}),
  };
}

export function printJson(value: unknown, pretty: boolean): void {
  console.log(JSON.stringify(value, null, pretty ? 2 : undefined));
}
