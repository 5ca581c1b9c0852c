import { readFileSync } from "node:fs";
import { packageRoot } from "../../core/paths.ts";
import { SUPPORTED_SPI_VERSIONS } from "../../spi/versions.ts";
import type { Command } from "../command.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "Print the Outrig version and the SPI versions it speaks",
  usage: "Usage: outrig version",
  async run() {
    const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, "utf8")) as { version: string };
    console.log(`outrig ${pkg.version} (SPI ${SUPPORTED_SPI_VERSIONS.join(", ")}, node ${process.version})`);
    return 0;
  },
};
