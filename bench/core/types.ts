/**
 * What the shared benchmark body needs from its runtime (file loading,
 * memory probes, optional peers) and what it hands back.
 *
 * @module
 */
import type { Goal, Summary } from "./stats.ts";

/** Committed components the benchmarks use (file names in plugins-wasm/dist). */
export type ComponentName = "vector-flat-v1" | "vector-flat-v2" | "crdt-v1" | "crdt-v2" | "types-v1" | "types-v2";

/** A peer's trivial call, measured beside the raw core call in the same process. */
export interface PeerCall {
  /** e.g. "jco 1.35 transpiled glue". */
  name: string;
  /** Prepares the peer and returns a loop body running `n` trivial calls (sync or async). */
  prepare(): Promise<(n: number) => unknown>;
}

export interface BenchEnv {
  runtime: "node" | "deno" | "chromium";
  runtimeVersion: string;
  machine: { cpu: string; cores: number; os: string; memoryGiB?: number };
  /** Tiny sizes, 1-2 runs: proves every benchmark still runs. */
  smoke: boolean;
  /** The bytes of `plugins-wasm/dist/<name>.wasm`, or undefined when that component is not built yet. */
  component(name: ComponentName): Promise<Uint8Array | undefined>;
  /** JS heap bytes in use right now (not wasm linear memory: handoff measures that growth itself). */
  heapBytes(): number;
  /** Forces a GC when the runtime allows it (Node --expose-gc, Deno --v8-flags); else a no-op. */
  gc(): void;
  /** Extra trivial-call peers this runtime can run (jco glue, Extism): Node only. */
  peers?: PeerCall[];
  /** Progress lines. */
  log(line: string): void;
}

/** One reported figure. */
export interface Figure {
  /** Stable id, e.g. `call.client-vs-raw`. */
  id: string;
  group: string;
  /** What was measured, in words. */
  name: string;
  unit: string;
  value: Summary;
  baseline?: { name: string; unit: string; value: Summary };
  /** value ÷ baseline per round, summarised (or another derived ratio). */
  ratio?: Summary;
  goal?: Goal & { met: boolean; text: string };
  notes?: string;
}

export interface BenchResults {
  runtime: BenchEnv["runtime"];
  runtimeVersion: string;
  machine: BenchEnv["machine"];
  smoke: boolean;
  startedAt: string;
  durationMs: number;
  figures: Figure[];
  /** Benchmarks that could not run here, and why. */
  skipped: { id: string; reason: string }[];
}
