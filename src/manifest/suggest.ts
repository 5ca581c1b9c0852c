/** "Did you mean …?" for typos in keys and enum values. */

function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `input`, or undefined when none is plausibly meant.
 * A candidate that contains the input as a dotted/underscored part (egress → net.egress) counts too.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  if (input.length === 0 || input.length > 64) return undefined;
  const needle = input.toLowerCase();
  const limit = Math.max(2, Math.ceil(needle.length * 0.4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = distance(needle, candidate.toLowerCase(), limit);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  return candidates.find((c) => c.split(/[._-]/).includes(needle));
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(input: unknown, candidates: readonly string[]): string {
  if (typeof input !== "string") return "";
  const hit = suggest(input, candidates);
  return hit === undefined || hit === input ? "" : ` (did you mean "${hit}"?)`;
}
