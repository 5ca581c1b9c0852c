/**
 * The manifest validator: schema issues (mapped to stable codes), unknown keys, and the
 * cross-field rules, in one report. It never throws, whatever the input.
 */
import { countIssues, type ManifestIssue, makeIssue, type Severity, sortIssues } from "./codes.ts";
import { runRules } from "./rules.ts";
import { type Manifest, ManifestSchema, type ManifestSection } from "./schema.ts";
import { findUnknownKeys, isPlainObject, sanitize } from "./walk.ts";
import { describeValue, fromZodIssue } from "./zod-issues.ts";

export interface ValidationReport {
  /** True when there is no error (warnings and advisories allowed). */
  ok: boolean;
  /** Errors first, then warnings, then advisories. */
  issues: ManifestIssue[];
  counts: Record<Severity, number>;
  /** The normalized manifest, defaults applied; present exactly when `ok`. */
  manifest?: Manifest;
}

/** Validates parsed manifest data (from parseManifest, or any JSON-like value). */
export function validateManifest(data: unknown): ValidationReport {
  let issues: ManifestIssue[];
  let manifest: Manifest | undefined;
  try {
    ({ issues, manifest } = check(data));
  } catch (error) {
    // Only exotic inputs get here (getters that throw, proxies); plain data never does.
    issues = [makeIssue("MANIFEST_UNREADABLE", "$", `cannot read the value: ${describeError(error)}`)];
  }
  const counts = countIssues(issues);
  const report: ValidationReport = { ok: counts.error === 0, issues: sortIssues(issues), counts };
  if (report.ok && manifest) report.manifest = manifest;
  return report;
}

/** Whether a report passes: no errors, and no warnings either when `strictWarnings`. */
export function reportPasses(report: ValidationReport, strictWarnings = false): boolean {
  return report.ok && (!strictWarnings || report.counts.warning === 0);
}

function check(data: unknown): { issues: ManifestIssue[]; manifest?: Manifest } {
  if (!isPlainObject(data)) {
    return {
      issues: [
        makeIssue("MANIFEST_NOT_OBJECT", "$", `the manifest must be a mapping, got ${describeValue(data)}`),
      ],
    };
  }
  const { data: clean, issues } = sanitize(data);
  const raw = clean as Record<string, unknown>;
  issues.push(...findUnknownKeys(ManifestSchema, raw));

  // Section by section, so a broken section does not stop the rules over the others.
  const normalized: Record<string, unknown> = {};
  const valid = new Set<ManifestSection>();
  for (const [key, schema] of Object.entries(ManifestSchema.shape)) {
    const result = schema.safeParse(Object.hasOwn(raw, key) ? raw[key] : undefined, { reportInput: true });
    if (result.success) {
      valid.add(key as ManifestSection);
      if (result.data !== undefined) normalized[key] = result.data;
    } else {
      issues.push(...result.error.issues.map((issue) => fromZodIssue(issue, [key])));
    }
  }
  issues.push(...runRules(normalized as Partial<Manifest>, valid, raw));
  return { issues, manifest: normalized as Manifest };
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}
