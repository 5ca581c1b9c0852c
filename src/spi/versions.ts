/** SPI versions this build of the core and SDK implement, highest last. */
export const SUPPORTED_SPI_VERSIONS = ["1.0"] as const;

const VERSION = /^(\d{1,4})\.(\d{1,4})$/;

export function isSpiVersion(value: string): boolean {
  return VERSION.test(value);
}

function compare(a: string, b: string): number {
  const [, amaj = "0", amin = "0"] = VERSION.exec(a) ?? [];
  const [, bmaj = "0", bmin = "0"] = VERSION.exec(b) ?? [];
  return Number(amaj) - Number(bmaj) || Number(amin) - Number(bmin);
}

/** The highest version both sides list, or undefined when they share none. */
export function negotiateSpiVersion(core: readonly string[], module: readonly string[]): string | undefined {
  const common = core.filter((v) => isSpiVersion(v) && module.includes(v));
  return common.sort(compare).at(-1);
}
