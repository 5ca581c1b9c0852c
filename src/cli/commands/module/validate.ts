import { checkManifestFile, reportPasses } from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";
import { countsText, failureJson, failureText, issueLines, printJson } from "./report.ts";

export const validateSubcommand: Command = {
  name: "validate",
  summary: "Validate one manifest (exit 0 valid, 1 invalid, 2 unreadable)",
  usage: [
    "Usage: outrig module validate <path> [--json] [--pretty] [--strict-warnings] [--print-normalized]",
    "  --json              print the report as JSON",
    "  --pretty            indent the JSON (with --json)",
    "  --strict-warnings   warnings fail too (exit 1)",
    "  --print-normalized  print the manifest with defaults applied (inside the JSON with --json)",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        json: { type: "boolean" },
        pretty: { type: "boolean" },
        "strict-warnings": { type: "boolean" },
        "print-normalized": { type: "boolean" },
      },
      { min: 1, max: 1, names: "the manifest path" },
    );
    if (values.pretty && !values.json) throw new UsageError("--pretty needs --json");
    const file = positionals[0]!;
    const strict = values["strict-warnings"] === true;
    const checked = await checkManifestFile(file);

    if (!checked.ok) {
      if (values.json)
        printJson({ file, ok: false, passed: false, error: failureJson(checked) }, values.pretty === true);
      else console.error(failureText(file, checked));
      return 2;
    }
    const { report } = checked;
    const passed = reportPasses(report, strict);
    if (values.json) {
      printJson(
        {
          file,
          ok: report.ok,
          passed,
          format: checked.format,
          notes: checked.notes,
          counts: report.counts,
          issues: report.issues,
          ...(values["print-normalized"] && report.manifest ? { manifest: report.manifest } : {}),
        },
        values.pretty === true,
      );
      return passed ? 0 : 1;
    }

    const m = report.manifest;
    console.log(
      `${file} (${checked.format})${m ? `: module ${m.id} ${m.version}, profile ${m.profile}` : ""}`,
    );
    for (const note of checked.notes) console.log(`  note: ${note}`);
    for (const line of issueLines(report.issues)) console.log(line);
    const verdict = !report.ok
      ? "invalid"
      : passed
        ? "valid"
        : "valid, but warnings fail under --strict-warnings";
    console.log(`result: ${verdict} (${countsText(report.counts)})`);
    if (values["print-normalized"]) {
      if (m) console.log(JSON.stringify(m, null, 2));
      else console.log("no normalized manifest: fix the errors first");
    }
    return passed ? 0 : 1;
  },
};
