#!/usr/bin/env node
// Completes package-lock.json with the other platforms' builds of platform-specific
// optional packages (biome, buf, swc, …) when the registry this lockfile was made with
// serves only this platform's: npm then leaves those out, and `npm ci` refuses the
// lockfile as out of sync. Each added entry carries `os`/`cpu` taken from its name, so
// npm skips it on other platforms without fetching it. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const OS = ["android", "darwin", "freebsd", "linux", "openharmony", "win32"];
const CPU = {
  arm64: "arm64",
  x64: "x64",
  ia32: "ia32",
  armv7: "arm",
  arm: "arm",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
};

function platformOf(name) {
  const parts = name.split("/").at(-1).split("-");
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  const libc = parts.some((p) => p.startsWith("musl"))
    ? "musl"
    : parts.some((p) => p.startsWith("gnu"))
      ? "glibc"
      : undefined;
  return os && cpu ? { os, cpu, libc } : undefined;
}

let added = 0;
for (const [where, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ""}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(spec)) {
      console.error(`cannot complete ${name}@${spec} (needed by ${where || "the root"}): add it by hand`);
      process.exitCode = 1;
      continue;
    }
    packages[`node_modules/${name}`] = {
      version: spec,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries added`);
