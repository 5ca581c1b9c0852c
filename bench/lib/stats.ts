/** Small measurement helpers shared by the benchmarks. */

export interface Summary {
  n: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  mean_us: number;
}

/** Percentiles and mean of nanosecond samples, in microseconds (two decimals: some calls take under 1 µs). */
export function summarize(samplesNs: number[]): Summary {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length / 1000;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n: sorted.length,
    p50_us: round(at(0.5)),
    p90_us: round(at(0.9)),
    p99_us: round(at(0.99)),
    mean_us: round(mean),
  };
}

/** Latency of `fn` (given the call's index), one call at a time, after a warm-up. */
export async function latency(
  fn: (i: number) => unknown,
  iterations: number,
  warmup = 500,
): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start));
  }
  return summarize(samples);
}

/** Calls per second with `concurrency` calls kept in flight for `durationMs`. */
export async function throughput(
  fn: () => unknown,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let done = 0;
  const end = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      await fn();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return Math.round(done / ((performance.now() - start) / 1000));
}

/** The median of repeated measurements, to damp a noisy 2-core machine. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function report(bench: string, result: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, ...result }));
}
