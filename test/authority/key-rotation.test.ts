/** Generated context-reference keys rotate on their own; references signed before a rotation still verify. */
import { jest } from "@jest/globals";
import { createAuthority } from "../../src/authority/config.ts";
import { DEV_PRINCIPAL } from "../../src/authority/dev-token.ts";

const kid = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string }).kid;

test("the signing key rotates every rotate_every_sec, and older references keep verifying", async () => {
  jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask", "performance", "Date"] });
  const handle = await createAuthority({ contextRefs: { ttlSec: 60, rotateEverySec: 60 } });
  try {
    const refs = handle.authority.parts.contextRefs;
    const first = refs.issue(DEV_PRINCIPAL, { audience: "echo" }).token;
    jest.advanceTimersByTime(61_000);
    const second = refs.issue(DEV_PRINCIPAL, { audience: "echo" }).token;
    expect(kid(second)).not.toBe(kid(first));
    expect(refs.verifyContextRef(first, { audience: "echo" }).ok).toBe(true);
    expect(refs.verifyContextRef(second, { audience: "echo" }).ok).toBe(true);
  } finally {
    await handle.close();
    jest.useRealTimers();
  }
});
