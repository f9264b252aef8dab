/**
 * What the shared benchmark body needs from its runtime (file loading,
 * memory and event-loop probes, optional peers) and what it hands back.
 *
 * @module
 */
import type { StateStore, StoreObserver } from "../../src/store/types.ts";
import type { Goal, Summary } from "./stats.ts";

/** Committed components the benchmarks use (file names in plugins-wasm/dist). */
export type ComponentName =
  | "vector-flat-v1"
  | "vector-flat-v2"
  | "crdt-v1"
  | "crdt-v2"
  | "types-v1"
  | "types-v2"
  | "changelog-v1";

/** Bench-only wasm fixtures (bench/fixtures/<name>.wasm, built by bench/fixtures/build.mjs). */
export type FixtureName = "memcpy";

/** A peer's trivial call, measured beside the raw core call in the same process. */
export interface PeerCall {
  /** e.g. "jco 1.35 transpiled glue". */
  name: string;
  /** Short stable id for the figure, e.g. `jco`. */
  id: string;
  /** Prepares the peer and returns a loop body running `n` trivial calls (sync or async). */
  prepare(): Promise<(n: number) => unknown>;
  notes?: string;
}

/** Memory as the runtime reports it, in bytes; a field is absent where the runtime does not expose it. */
export interface MemorySample {
  /** JS heap in use. */
  heap: number;
  /** Bytes held by ArrayBuffers outside the heap (Node `arrayBuffers`; Deno `external`, which also counts other native memory). */
  arrayBuffers?: number;
  /** Resident set size of the whole process. */
  rss?: number;
}

/**
 * Watches the event loop for stalls while started: `stop()` returns the longest
 * time, in ms, that the loop could not run a timer beyond when it was due.
 */
export interface StallProbe {
  /** How it measures, for the figure's notes. */
  readonly how: string;
  start(): void;
  stop(): number;
}

/** The parts of hnswlib-wasm 0.8.2 the vector benchmark uses (its typings are not importable in every runtime). */
export interface HnswlibModule {
  BruteforceSearch: new (
    space: "l2" | "ip" | "cosine",
    dim: number,
  ) => {
    initIndex(maxElements: number): void;
    addPoint(point: Float32Array, label: number): void;
    searchKnn(query: Float32Array, k: number, filter: undefined): { distances: number[]; neighbors: number[] };
  };
  HierarchicalNSW: new (
    space: "l2" | "ip" | "cosine",
    dim: number,
    autoSaveFilename: string,
  ) => {
    initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
    addPoint(point: Float32Array, label: number, replaceDeleted: boolean): void;
    setEfSearch(ef: number): void;
    searchKnn(query: Float32Array, k: number, filter: undefined): { distances: number[]; neighbors: number[] };
  };
}

/** A durable store the runtime opens for the durable-state benchmarks, fresh per name. */
export interface DurableStore {
  store: StateStore;
  /** What it is, for figure names (e.g. "the file store"). */
  label: string;
  /** Closes it and deletes what it holds. */
  close(): Promise<void>;
}

export interface BenchEnv {
  runtime: "node" | "deno" | "chromium";
  runtimeVersion: string;
  machine: { cpu: string; cores: number; os: string; memoryGiB?: number };
  /** Tiny sizes, 1-2 runs: proves every benchmark still runs and still checks its answers. */
  smoke: boolean;
  /** The bytes of `plugins-wasm/dist/<name>.wasm`, or undefined when that component is not built yet. */
  component(name: ComponentName): Promise<Uint8Array | undefined>;
  /** The bytes of `bench/fixtures/<name>.wasm`, or undefined when missing. */
  fixture(name: FixtureName): Promise<Uint8Array | undefined>;
  /** Memory in use right now (wasm linear memory is measured apart, per instance). */
  memory(): MemorySample;
  /** Forces a GC when the runtime allows it (Node --expose-gc, Deno --v8-flags); else a no-op. */
  gc(): void;
  /** A stall probe native to the runtime (Node: `monitorEventLoopDelay`); default: a `setTimeout` chain. */
  stallProbe?(): StallProbe;
  /** Loads hnswlib-wasm, where it loads; throws with the reason where it does not. */
  hnswlib?(): Promise<HnswlibModule>;
  /** Extra trivial-call peers this runtime can run (jco glue, Extism): Node only. */
  peers?: PeerCall[];
  /** Parts known not to run in this runtime, and why: listed under "Skipped" in the results. */
  notHere?: { id: string; reason: string }[];
  /**
   * Opens a fresh durable store (Node: the file store in a temp dir; Deno: Deno KV in a temp file; Chromium:
   * IndexedDB with OPFS blobs), telling `observer` of every commit.
   */
  durableStore?(name: string, observer?: StoreObserver): Promise<DurableStore>;
  /** The 1-minute load average, where the runtime can read it (how busy the machine is). */
  loadAverage?(): number;
  /** Progress lines. */
  log(line: string): void;
  /** Records a part of a benchmark that cannot run here, and why (set by the suite). */
  skip?(id: string, reason: string): void;
}

/** One reported figure. */
export interface Figure {
  /** Stable id, e.g. `call.apply.host`. */
  id: string;
  group: string;
  /** What was measured, in words. */
  name: string;
  unit: string;
  value: Summary;
  baseline?: { name: string; unit: string; value: Summary };
  /** value ÷ baseline per round, summarised (or another derived ratio). */
  ratio?: Summary;
  /** The verdict is the median's; `roundsMet` of `rounds` single rounds met the goal (how firm it is). */
  goal?: Goal & { met: boolean; text: string; roundsMet: number; rounds: number };
  notes?: string;
}

export interface BenchResults {
  runtime: BenchEnv["runtime"];
  runtimeVersion: string;
  machine: BenchEnv["machine"];
  smoke: boolean;
  startedAt: string;
  durationMs: number;
  /** Load average (1 min) at start and end where the runtime can read it: how busy the machine was. */
  load?: { start?: number; end?: number };
  figures: Figure[];
  /** Benchmarks (or parts of one) that could not run here, and why. */
  skipped: { id: string; reason: string }[];
}
