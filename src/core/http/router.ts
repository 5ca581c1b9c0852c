import { OutrigError } from "../../errors/index.ts";
import type { RouteHandler } from "./types.ts";

interface Route {
  method: string;
  /** The template, for example `/v1/modules/:module/invoke/:operation`; also the metrics label. */
  template: string;
  segments: string[];
  handler: RouteHandler;
}

export type RouteMatch =
  | { kind: "found"; template: string; handler: RouteHandler; params: Record<string, string> }
  | { kind: "method_not_allowed"; template: string; allow: string[] }
  | { kind: "not_found" };

/**
 * A route table of method + path template. Segments are matched literally or as `:name`
 * parameters (one non-empty, percent-decoded segment). A GET route also answers HEAD.
 */
export class Router {
  readonly #routes: Route[] = [];

  add(method: string, template: string, handler: RouteHandler): this {
    this.#routes.push({ method, template, segments: splitPath(template), handler });
    return this;
  }

  /** Throws `core.request.invalid_path` for a segment with broken percent-encoding. */
  match(method: string, path: string): RouteMatch {
    const segments = splitPath(path);
    const allow = new Set<string>();
    let template: string | undefined;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) {
        return { kind: "found", template: route.template, handler: route.handler, params };
      }
      template ??= route.template;
      allow.add(route.method);
      if (route.method === "GET") allow.add("HEAD");
    }
    if (template === undefined) return { kind: "not_found" };
    return { kind: "method_not_allowed", template, allow: [...allow] };
  }
}

function splitPath(path: string): string[] {
  return path.split("/").slice(1);
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(":")) {
      if (a === "") return undefined;
      params[p.slice(1)] = decodeSegment(a);
    } else if (p !== a) {
      return undefined;
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw OutrigError.fromCode("core.request.invalid_path");
  }
}

/**
 * The path of a request target and its raw query (without `?`; parsed only by the routes
 * that read it): origin-form (`/a/b?x`) is taken as is (no dot-segment folding, so `..`
 * never reaches another route), absolute-form is parsed.
 */
export function requestTarget(url: string | undefined): { path: string; search: string } {
  const raw = url ?? "";
  if (raw.startsWith("/")) {
    const hash = raw.indexOf("#");
    const target = hash < 0 ? raw : raw.slice(0, hash);
    const q = target.indexOf("?");
    return {
      path: q < 0 ? target : target.slice(0, q),
      search: q < 0 ? "" : target.slice(q + 1),
    };
  }
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return { path: parsed.pathname, search: parsed.search.slice(1) };
    }
  } catch {
    // falls through: `*` (OPTIONS *) or garbage
  }
  throw OutrigError.fromCode("core.request.invalid_path");
}
