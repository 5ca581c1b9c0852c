/**
 * Manifest validation throughput: parse + validate, mixed JSON/TOML/YAML, one manifest
 * at a time on one thread. Prints one JSON line. Target: ≥ 2,000 manifests/s.
 *
 *   npm run build && node dist/bench/manifest/run.js [--seconds 3] [--quick] [--check]
 *
 * --quick measures for one second (unless --seconds says otherwise); --check exits 1
 * when the throughput is under the target.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";
import { packageRoot } from "../../src/core/paths.ts";
import { checkManifestSource, type ManifestFormat, parseManifest } from "../../src/manifest/index.ts";
import { report, summarize } from "../lib/stats.ts";

const TARGET_PER_SECOND = 2000;

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    quick: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds ?? (values.quick ? 1 : 3));

interface Sample {
  format: ManifestFormat;
  filename: string;
  text: string;
}

/** Every example manifest, each serialized to all three formats. */
function corpus(): Sample[] {
  const dir = join(packageRoot(), "examples", "manifests");
  const samples: Sample[] = [];
  for (const file of readdirSync(dir).sort()) {
    const parsed = parseManifest(readFileSync(join(dir, file)), { filename: file });
    if (!parsed.ok) throw new Error(`${file}: ${parsed.message}`);
    const data = parsed.data as Record<string, unknown>;
    const base = file.replace(/\.[a-z]+$/, "");
    samples.push({ format: "json", filename: `${base}.json`, text: JSON.stringify(data, null, 2) });
    samples.push({ format: "toml", filename: `${base}.toml`, text: toToml(data) });
    samples.push({ format: "yaml", filename: `${base}.yaml`, text: toYaml(data) });
  }
  return samples;
}

const samples = corpus();
for (const s of samples) {
  const checked = checkManifestSource(s.text, { filename: s.filename });
  if (!checked.ok || !checked.report.ok)
    throw new Error(`${s.filename} does not validate in the benchmark corpus`);
}

// Warm up the JIT before measuring.
for (let i = 0; i < 2000; i++) {
  const s = samples[i % samples.length]!;
  checkManifestSource(s.text, { filename: s.filename });
}

const timings: number[] = [];
const byFormat: Record<ManifestFormat, number[]> = { json: [], toml: [], yaml: [] };
const deadline = performance.now() + seconds * 1000;
const started = performance.now();
let i = 0;
while (performance.now() < deadline) {
  const s = samples[i++ % samples.length]!;
  const t0 = process.hrtime.bigint();
  const checked = checkManifestSource(s.text, { filename: s.filename });
  const elapsed = Number(process.hrtime.bigint() - t0);
  if (!checked.ok) throw new Error("parse failed during the benchmark");
  timings.push(elapsed);
  byFormat[s.format].push(elapsed);
}
const wall = (performance.now() - started) / 1000;

const stats = (samplesNs: number[]) => {
  const { p50_us, p99_us } = summarize(samplesNs);
  return { median_us: p50_us, p99_us };
};
const perSecond = Math.round(timings.length / wall);
report("manifest", {
  manifests_per_s: perSecond,
  ...stats(timings),
  count: timings.length,
  seconds: Number(wall.toFixed(2)),
  corpus: samples.length,
  mean_bytes: Math.round(samples.reduce((n, s) => n + Buffer.byteLength(s.text), 0) / samples.length),
  formats: {
    json: stats(byFormat.json),
    toml: stats(byFormat.toml),
    yaml: stats(byFormat.yaml),
  },
  target_per_s: TARGET_PER_SECOND,
  node: process.version,
});
if (values.check && perSecond < TARGET_PER_SECOND) process.exitCode = 1;
