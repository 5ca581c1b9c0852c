import {
  compareSpiVersions,
  isSpiVersion,
  negotiateSpiVersion,
  spiVersionInRange,
} from "../../src/spi/versions.ts";

describe("SPI versions", () => {
  test("are MAJOR.MINOR and ordered numerically", () => {
    expect(["1.0", "12.345", "9999.9999"].every(isSpiVersion)).toBe(true);
    expect(["1", "1.0.0", "v1.0", "1.x", "10000.0", ""].some(isSpiVersion)).toBe(false);
    expect(["1.10", "1.9", "2.0", "1.0"].sort(compareSpiVersions)).toEqual(["1.0", "1.9", "1.10", "2.0"]);
  });

  test("a range holds well-formed versions only", () => {
    const range = { min: "1.2", max: "1.10" };
    expect(["1.2", "1.9", "1.10"].every((v) => spiVersionInRange(v, range))).toBe(true);
    expect(["1.1", "1.11", "2.0"].some((v) => spiVersionInRange(v, range))).toBe(false);
    // A malformed version would compare as 0.0; it must not fall into a range from 0.0.
    expect(spiVersionInRange("bogus", { min: "0.0", max: "9.9" })).toBe(false);
  });

  test("negotiation picks the highest common version", () => {
    expect(negotiateSpiVersion(["1.0", "1.10", "1.9"], ["1.9", "1.10", "2.0"])).toBe("1.10");
    expect(negotiateSpiVersion(["1.0"], ["2.0", "bogus"])).toBeUndefined();
  });
});
