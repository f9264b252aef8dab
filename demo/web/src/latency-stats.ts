/** Percentiles of the query loop's latencies, and how to print a latency for people. */
import type { Sample, Series } from "./load-loop.ts";

export interface WindowStats {
  calls: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** The `q`-quantile (0..1) of ascending `sorted` by nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Latency figures of one plugin's calls that fell due at or after `from` (loop seconds). */
export function windowStats(series: Series, from: number): WindowStats {
  const inWindow: Sample[] = series.samples.filter((s) => s.due >= from);
  const ms = inWindow.map((s) => s.ms).sort((a, b) => a - b);
  return {
    calls: inWindow.length,
    failed: inWindow.filter((s) => !s.ok).length,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: ms.length ? (ms[ms.length - 1] as number) : Number.NaN,
  };
}

/** "0.4 ms", "3.2 ms", "27 ms", "1.2 s"; "—" for no value. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}
