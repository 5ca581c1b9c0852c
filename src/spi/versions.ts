/** SPI versions this build of the core and SDK implement, highest last. */
export const SUPPORTED_SPI_VERSIONS = ["1.0"] as const;

/** An SPI version: MAJOR.MINOR. */
export const SPI_VERSION_PATTERN = /^\d{1,4}\.\d{1,4}$/;

export function isSpiVersion(value: string): boolean {
  return SPI_VERSION_PATTERN.test(value);
}

/** Orders SPI versions numerically (1.10 after 1.9). A malformed one counts as 0.0: check validity first. */
export function compareSpiVersions(a: string, b: string): number {
  const [amaj, amin] = numbers(a);
  const [bmaj, bmin] = numbers(b);
  return amaj - bmaj || amin - bmin;
}

function numbers(version: string): [number, number] {
  if (!isSpiVersion(version)) return [0, 0];
  const dot = version.indexOf(".");
  return [Number(version.slice(0, dot)), Number(version.slice(dot + 1))];
}

/** Whether a well-formed version lies in the inclusive range; a malformed one is in none. */
export function spiVersionInRange(version: string, range: { min: string; max: string }): boolean {
  return (
    isSpiVersion(version) &&
    compareSpiVersions(version, range.min) >= 0 &&
    compareSpiVersions(version, range.max) <= 0
  );
}

/** The highest version both sides list, or undefined when they share none. */
export function negotiateSpiVersion(core: readonly string[], module: readonly string[]): string | undefined {
  const common = core.filter((v) => isSpiVersion(v) && module.includes(v));
  return common.sort(compareSpiVersions).at(-1);
}
