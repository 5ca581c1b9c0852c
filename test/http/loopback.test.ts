import { isLoopbackAddress } from "../../src/core/http/loopback.ts";

describe("isLoopbackAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "127.1.2.3",
    "::1",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "::ffff:127.10.0.5",
  ])("accepts %s", (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });

  it.each([
    "10.0.0.1",
    "192.168.1.1",
    "128.0.0.1",
    "0.0.0.0",
    "::",
    "::2",
    "fe80::1",
    "::ffff:10.0.0.1",
    "::ffff:192.168.0.1",
    "localhost",
    "127.0.0.1.evil.com",
    "",
    undefined,
  ])("refuses %s", (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});
