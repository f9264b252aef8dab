/**
 * Public option and data types of the worker runtime layer.
 *
 * @module
 */
import type { LogLimits } from "../component/log-limit.ts";
import type { LogLevel } from "../component/types.ts";
import type { PluginError } from "../errors.ts";

/** Per-call options every remote call takes as its last argument. */
export interface CallOptions {
  /**
   * How long the call may run in the worker, in ms, from when it is sent there (time queued behind
   * earlier calls is bounded by their own deadlines). Default: the instance's `timeoutMs`. `Infinity`:
   * no deadline. On expiry the call — and every call queued behind it — rejects with
   * `ErrorCode.DeadlineExceeded`, the worker is terminated and the instance is dead.
   */
  timeoutMs?: number;
  /**
   * Move the byte arguments' buffers to the worker instead of copying them (each must be a whole,
   * unshared `ArrayBuffer`; the caller's views are detached afterwards). For channels without shared memory.
   */
  transfer?: boolean;
}

/**
 * What the host expects of `cdc-sink.emit` during one stream call (see `sink.ts`): `live` and `staged`
 * accept emits starting exactly at `nextLsn` (chained within the call); `sealed` refuses every emit,
 * naming `nextLsn` as the LSN the stream was handed over at.
 */
export interface SinkExpectation {
  mode: "live" | "staged" | "sealed";
  nextLsn: bigint;
  /** The host's name for the stream, used in refusal messages. Default: the output name. */
  stream?: string;
}

/** One `cdc-sink.emit` the worker accepted under a {@link SinkExpectation}. */
export interface AcceptedEmit {
  output: string;
  lsnStart: bigint;
  lsnEnd: bigint;
  /** What the output emitted (Arrow IPC for the sample outputs); the host's own copy. */
  payload: Uint8Array;
}

/** Options of the CDC stream calls (`start`, `deliver`, `checkpoint`, `shutdown`). */
export interface StreamCallOptions extends CallOptions {
  /** Without one, every emit during the call is refused (`RegistryError(Forbidden)`), as outside a stream call. */
  sink?: SinkExpectation;
  /**
   * Receives each accepted emit, in order, before the call's promise settles — also when the call then
   * fails (an accepted emit is accepted). Lost only if the worker dies mid-call: then none of the call's
   * emits reached main, and the host's retained log still holds the batch.
   */
  onEmit?: (emit: AcceptedEmit) => void;
}

/** Why a worker instance died. Given to `onDeath`. */
export interface WorkerDeath {
  /** `deadline`: a call ran past its deadline and the worker was terminated; `crash`: the worker failed by itself. */
  reason: "deadline" | "crash";
  /** What the call in flight was rejected with (`DeadlineExceeded`, or a `TrapError` for a crash). */
  error: PluginError;
  /** The call in flight, e.g. `index-handle.probe` (`spawn` during start-up, `idle` between calls). */
  what: string;
}

/**
 * Heap limits for the worker's JavaScript heap. Honoured by Node's `worker_threads` (the Node adapter's
 * factory passes them as `resourceLimits`); Web Workers (browsers, Deno) have no such knob. The guest's
 * linear memory is not JS heap: it is capped by the module's `memoryPagesCeiling`.
 */
export interface WorkerResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/** The shape of a worker as the runtime uses it: a Web `Worker` has it; the Node adapter wraps `worker_threads`. */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent) => unknown) | null;
  onerror: ((event: ErrorEvent) => unknown) | null;
  onmessageerror?: ((event: MessageEvent) => unknown) | null;
  terminate(): unknown;
  /** Node: keep the process alive while calls are in flight, and let it exit when idle. */
  ref?(): void;
  unref?(): void;
}

/** Creates the worker that will host one instance. */
export type WorkerFactory = (init: { resourceLimits?: WorkerResourceLimits }) => WorkerLike;

export interface SpawnOptions {
  /** Used in every error and trap report. */
  pluginId: string;
  /** Effective capabilities (declared ∩ granted), as for `ComponentInstance.instantiate`. */
  grants: ReadonlySet<string>;
  /** `host-log` lines, forwarded from the worker in order, with the in-thread instance's caps. */
  log?: (level: LogLevel, message: string) => void;
  /** The `host-log` caps, applied in the worker by the instance itself (as `InstantiateOptions.logLimits`). */
  logLimits?: LogLimits;
  /**
   * Called once when the instance dies (deadline or crash), after every pending call was rejected.
   * Not called for `dispose()`/`terminate()`, nor when `spawn` itself fails (nothing to restore).
   */
  onDeath?: (death: WorkerDeath) => void;
  /**
   * Default deadline of every call, in ms (see {@link CallOptions.timeoutMs}), `spawn` included (starting
   * a worker takes tens to hundreds of ms: give `spawn` its own `{ timeoutMs }` when calls get a short one).
   * Default 30 000.
   */
  timeoutMs?: number;
  /**
   * The host ceiling on guest memory, in 64 KiB pages. The module was capped when compiled, and is
   * never recompiled here: a module whose maximum exceeds this is refused (`LoadError(ResourceLimit)`).
   */
  memoryPagesCeiling?: number;
  /**
   * `auto` (default): the shared-memory channel where `SharedArrayBuffer` exists (in browsers: a
   * cross-origin isolated page), else messages. `atomics` requires it. `message` uses no shared memory
   * at all, as where it is unavailable: `persistShared` then moves an `ArrayBuffer` to main.
   */
  channel?: "auto" | "atomics" | "message";
  /** Size of the shared buffer's data area; larger requests and results go by message. Default 256 KiB. */
  channelBytes?: number;
  /** Creates the worker. Default: a module Web `Worker` on `entry.ts`/`entry.js` (Node: use the Node adapter's). */
  workerFactory?: WorkerFactory;
  /** Worker heap limits (Node only; see {@link WorkerResourceLimits}). */
  resourceLimits?: WorkerResourceLimits;
  /**
   * How long each side spins before sleeping, in µs: main waiting for a response (bounded; it then
   * waits asynchronously), and the worker waiting for the next call. Defaults 40 and 200.
   */
  spinMicros?: { main?: number; worker?: number };
}
