import { LruCache } from "../../src/authority/lru.ts";

describe("LruCache", () => {
  it("evicts the least recently used entry", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // "b" is now the oldest
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
    cache.clear();
    cache.set("d", 4);
    cache.set("e", 5);
    cache.set("f", 6);
    expect([cache.get("d"), cache.get("e"), cache.get("f")]).toEqual([undefined, 5, 6]);
  });

  it("agrees with a plain model over a long random run of gets, sets, deletes and clears", () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const max = 50;
    const cache = new LruCache<number, number>(max);
    let model: number[] = []; // keys, oldest first
    const values = new Map<number, number>();
    for (let step = 0; step < 50_000; step++) {
      const key = random(200);
      const op = random(100);
      if (op < 45) {
        const got = cache.get(key);
        expect(got).toBe(model.includes(key) ? values.get(key) : undefined);
        if (got !== undefined) model = [...model.filter((k) => k !== key), key];
      } else if (op < 90) {
        cache.set(key, step);
        values.set(key, step);
        model = [...model.filter((k) => k !== key), key];
        if (model.length > max) model.shift();
      } else if (op < 99) {
        cache.delete(key);
        model = model.filter((k) => k !== key);
      } else {
        cache.clear();
        model = [];
      }
      expect(cache.size).toBe(model.length);
    }
  });
});
