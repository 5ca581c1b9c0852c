/** JSON paths in the RFC 9535 normalized style: `$.health.poll_interval_ms`, `$.tags[2]`, `$['x-y']`. */

export type PathSegment = string | number;

const SHORTHAND = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function jsonPath(segments: readonly PropertyKey[]): string {
  let out = "$";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      out += SHORTHAND.test(key) ? `.${key}` : `['${key.replace(/[\\']/g, (c) => `\\${c}`)}']`;
    }
  }
  return out;
}
