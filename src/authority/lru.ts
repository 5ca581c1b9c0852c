/**
 * A bounded least-recently-used map. A Map keeps insertion order, so re-inserting on
 * a hit moves the entry to the young end and the oldest entry is the first key.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  /**
   * Walks the keys oldest first, kept between evictions. A fresh `keys()` would step over
   * every hole that earlier evictions left at the front (V8 compacts them only now and
   * then): microseconds per eviction in a full cache of 10,000. Every key it has passed
   * was evicted, and keys re-inserted later are appended after it, so it always yields
   * the oldest live key.
   */
  #oldest: Iterator<K> | undefined;
  readonly #max: number;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError("maxEntries must be a positive integer");
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      let oldest = this.#oldest?.next();
      if (oldest === undefined || oldest.done) {
        this.#oldest = this.#map.keys();
        oldest = this.#oldest.next();
      }
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
  }
}
