import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  assertLoopbackForDevToken,
  DevTokenAuthenticator,
  devTokenPath,
  generateDevToken,
  isLoopbackHost,
  readDevToken,
  writeDevToken,
} from "../../src/authority/dev-token.ts";

describe("development token", () => {
  let home: string;
  beforeEach(async () => {
    home = join(await mkdtemp(join(tmpdir(), "outrig-dev-")), "home");
  });
  afterEach(async () => {
    await rm(join(home, ".."), { recursive: true, force: true });
  });

  it("is written with mode 0600 in a 0700 home and read back", async () => {
    const token = generateDevToken();
    const path = await writeDevToken(home, token);
    expect(path).toBe(devTokenPath(home));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect(await readDevToken(home)).toBe(token);
    // Overwriting keeps the mode.
    const next = generateDevToken();
    await writeDevToken(home, next);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readDevToken(home)).toBe(next);
  });

  it("refuses a token file readable by others", async () => {
    await writeDevToken(home, generateDevToken());
    await chmod(devTokenPath(home), 0o644);
    await expect(readDevToken(home)).rejects.toMatchObject({ code: "auth.dev_token.invalid" });
  });

  it("returns undefined when there is no token, and refuses a malformed one", async () => {
    expect(await readDevToken(home)).toBeUndefined();
    await writeDevToken(home, generateDevToken());
    await writeFile(devTokenPath(home), "not-a-token", { mode: 0o600 });
    await expect(readDevToken(home)).rejects.toMatchObject({ code: "auth.dev_token.invalid" });
  });

  it.each(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST"])(
    "allows loopback %s",
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
      expect(() => assertLoopbackForDevToken(host)).not.toThrow();
    },
  );

  it.each([
    "0.0.0.0",
    "::",
    "",
    "10.0.0.1",
    "128.0.0.1",
    "192.168.1.10",
    "::2",
    "::ffff:10.0.0.1",
    "localhost.evil.com",
    "example.com",
    "1.127.0.0",
  ])("refuses %j", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
    expect(() => assertLoopbackForDevToken(host)).toThrow(
      expect.objectContaining({ code: "auth.dev_token.non_loopback" }),
    );
  });

  it("cannot be enabled on a non-loopback bind address", () => {
    expect(() => new DevTokenAuthenticator({ token: generateDevToken(), bindHost: "0.0.0.0" })).toThrow(
      expect.objectContaining({ code: "auth.dev_token.non_loopback" }),
    );
  });

  it("authenticates exactly its own token as an unrestricted admin", () => {
    const token = generateDevToken();
    const auth = new DevTokenAuthenticator({ token, bindHost: "127.0.0.1" });
    const ok = auth.verify(token);
    expect(ok.ok && ok.principal.teamScope.kind).toBe("unrestricted");
    expect(ok.ok && ok.principal.authMethod).toBe("dev");
    expect(auth.verify(generateDevToken()).ok).toBe(false);
  });
});
