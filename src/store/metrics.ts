/**
 * Latency recording for commits and journal appends: the last samples in a ring, summarized on demand.
 *
 * @module
 */

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Keeps the last `capacity` samples (milliseconds). */
export class LatencyRecorder {
  readonly #samples: Float64Array;
  #count = 0;

  constructor(capacity = 8192) {
    this.#samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.#samples[this.#count % this.#samples.length] = ms;
    this.#count++;
  }

  /** Samples recorded since creation or the last {@link reset}, including those no longer kept. */
  get count(): number {
    return this.#count;
  }

  reset(): void {
    this.#count = 0;
  }

  /** Percentiles over the kept samples (nearest rank); all zero when there are none. */
  summary(): LatencySummary {
    const n = Math.min(this.#count, this.#samples.length);
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.#count,
      mean: sum / n,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted[n - 1] as number,
    };
  }
}
