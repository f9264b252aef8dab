/**
 * Timing and summary helpers shared by every benchmark. Each figure is the
 * median of >= `runs` rounds with min and max; when a figure has a baseline,
 * both are measured in the same round (interleaved) so drift hits both alike,
 * and the ratio is taken per round before summarising.
 *
 * @module
 */

/** Median, min and max of a set of samples (plus how many). */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("summarize: no samples (a benchmark ran zero rounds)");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: sorted.length };
}

/** The `q`-quantile (0..1) of samples, nearest-rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export const now = (): number => performance.now();

/** Milliseconds one call of `fn` takes. */
export function timeOnce(fn: () => unknown): number {
  const t0 = now();
  fn();
  return now() - t0;
}

export async function timeOnceAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** Yields to the event loop (lets timers, GC finalisers and queued calls run between rounds). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** How a measured figure compares with its goal. */
export interface Goal {
  /** `<=`: the ratio must not exceed `value`; `>=`: must reach it. */
  op: "<=" | ">=";
  value: number;
  /** What the goal compares, e.g. "ratio" or "ms". */
  of: string;
}

export function meets(goal: Goal, value: number): boolean {
  return goal.op === "<=" ? value <= goal.value : value >= goal.value;
}

/**
 * Yields to the macrotask queue without timer clamping (setTimeout(0) is >= 1 ms
 * in Node and after nesting in browsers). An async loop whose awaits all settle
 * as microtasks would otherwise starve timers and I/O forever.
 */
export function yieldToMacrotasks(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (immediate) return new Promise((resolve) => void immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}
