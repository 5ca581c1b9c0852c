import { BlockList, isIPv4, isIPv6 } from "node:net";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * Whether a peer address is loopback: 127.0.0.0/8, ::1, and their IPv4-mapped IPv6 forms
 * (BlockList matches `::ffff:127.0.0.1` against the IPv4 subnet). Anything unparsable is not.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  // A zone index (`fe80::1%eth0`) never names loopback; BlockList would reject it anyway.
  if (isIPv4(address)) return LOOPBACK.check(address, "ipv4");
  if (isIPv6(address)) return LOOPBACK.check(address, "ipv6");
  return false;
}
