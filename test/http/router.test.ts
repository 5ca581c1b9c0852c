import { Router, requestTarget } from "../../src/core/http/router.ts";
import { OutrigError } from "../../src/errors/index.ts";

const noop = async () => {};

describe("Router", () => {
  const router = new Router()
    .add("GET", "/healthz", noop)
    .add("POST", "/v1/modules/:module/invoke/:operation", noop)
    .add("GET", "/admin/modules/:module", noop);

  it("matches templates and decodes parameters", () => {
    const m = router.match("POST", "/v1/modules/echo/invoke/say%20hi");
    expect(m).toMatchObject({ kind: "found", template: "/v1/modules/:module/invoke/:operation" });
    expect(m.kind === "found" && m.params).toEqual({ module: "echo", operation: "say hi" });
  });

  it("answers HEAD with the GET route", () => {
    expect(router.match("HEAD", "/healthz").kind).toBe("found");
  });

  it("reports the allowed methods for a known path", () => {
    expect(router.match("DELETE", "/healthz")).toEqual({
      kind: "method_not_allowed",
      template: "/healthz",
      allow: ["GET", "HEAD"],
    });
  });

  it("does not match empty parameters, extra segments or trailing slashes", () => {
    expect(router.match("POST", "/v1/modules//invoke/x").kind).toBe("not_found");
    expect(router.match("GET", "/healthz/").kind).toBe("not_found");
    expect(router.match("GET", "/healthz/x").kind).toBe("not_found");
  });

  it("refuses broken percent-encoding as invalid_path", () => {
    expect(() => router.match("GET", "/admin/modules/%E0%A4%A")).toThrow(OutrigError);
  });
});

describe("requestTarget", () => {
  it("keeps origin-form paths verbatim and splits the query", () => {
    const t = requestTarget("/admin/../v1/x?wait=false#frag");
    expect(t.path).toBe("/admin/../v1/x");
    expect(t.search).toBe("wait=false");
    expect(new URLSearchParams(t.search).get("wait")).toBe("false");
  });

  it("parses absolute-form targets", () => {
    expect(requestTarget("http://example.com/healthz?a=1").path).toBe("/healthz");
    expect(requestTarget("http://example.com/healthz?a=1").search).toBe("a=1");
  });

  it("refuses asterisk-form and garbage", () => {
    expect(() => requestTarget("*")).toThrow(OutrigError);
    expect(() => requestTarget("ftp://x/y")).toThrow(OutrigError);
  });
});
