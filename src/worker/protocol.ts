/**
 * What main and worker say to each other: the operations, the shared-memory channel's states, the
 * message shapes, and how typed errors cross (same class, code, message, retryable, plugin id).
 *
 * A request is `[op, target, args, sink]` and a response `[status, state, logBatches, value, emits]`:
 * plain value trees, written into the shared buffer by `codec.ts` or sent by `postMessage`.
 *
 * @module
 */
import type { ComponentModule } from "../component/module.ts";
import type { HostImportName, SurfaceName } from "../component/types.ts";
import {
  ErrorCode,
  LoadError,
  ManifestError,
  PluginCallError,
  PluginError,
  RegistryError,
  TrapError,
} from "../errors.ts";

/** Every remote operation. `target` is the handle id for handle methods, 0 otherwise. */
export const Op = {
  Init: 0,
  Manifest: 1,
  MemoryBytes: 2,
  LiveHandles: 3,
  Dispose: 4,
  SetPluginId: 5,
  LogStats: 6,
  IndexKinds: 10,
  IndexBuild: 11,
  IndexOpen: 12,
  IndexProbe: 13,
  IndexSupportsFilter: 14,
  IndexProbeFiltered: 15,
  IndexPersist: 16,
  IndexPersistShared: 17,
  IndexSchema: 18,
  IndexDrop: 19,
  CdcOutputs: 20,
  CdcStart: 21,
  CdcDeliver: 22,
  CdcCheckpoint: 23,
  CdcShutdown: 24,
  CdcDrop: 25,
  CrdtKinds: 30,
  CrdtEmpty: 31,
  CrdtFromPersisted: 32,
  CrdtApply: 33,
  CrdtMerge: 34,
  CrdtValue: 35,
  CrdtPersist: 36,
  CrdtPersistShared: 37,
  CrdtDrop: 38,
  TypeNames: 40,
  TypeArrowType: 41,
  TypeEncodingVersion: 42,
  TypeFromLiteral: 43,
  TypeToDisplay: 44,
  TypeCastFrom: 45,
  TypeCastTo: 46,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** What messages call each operation (the in-thread clients' names: `index-handle.probe`, `index.build`). */
export const OP_WHAT: Readonly<Record<Op, string>> = {
  [Op.Init]: "spawn",
  [Op.Manifest]: "manifest",
  [Op.MemoryBytes]: "memoryBytes",
  [Op.LiveHandles]: "liveHandles",
  [Op.Dispose]: "dispose",
  [Op.SetPluginId]: "pluginId",
  [Op.LogStats]: "logStats",
  [Op.IndexKinds]: "index.kinds",
  [Op.IndexBuild]: "index.build",
  [Op.IndexOpen]: "index.open",
  [Op.IndexProbe]: "index-handle.probe",
  [Op.IndexSupportsFilter]: "index-handle.supports-filter",
  [Op.IndexProbeFiltered]: "index-handle.probe-filtered",
  [Op.IndexPersist]: "index-handle.persist",
  [Op.IndexPersistShared]: "index-handle.persist",
  [Op.IndexSchema]: "index-handle.schema",
  [Op.IndexDrop]: "index-handle drop",
  [Op.CdcOutputs]: "cdc.outputs",
  [Op.CdcStart]: "cdc.start",
  [Op.CdcDeliver]: "cdc-stream.deliver",
  [Op.CdcCheckpoint]: "cdc-stream.checkpoint",
  [Op.CdcShutdown]: "cdc-stream.shutdown",
  [Op.CdcDrop]: "cdc-stream drop",
  [Op.CrdtKinds]: "crdt.kinds",
  [Op.CrdtEmpty]: "crdt.empty",
  [Op.CrdtFromPersisted]: "crdt.from-persisted",
  [Op.CrdtApply]: "crdt-state.apply",
  [Op.CrdtMerge]: "crdt-state.merge",
  [Op.CrdtValue]: "crdt-state.value",
  [Op.CrdtPersist]: "crdt-state.persist",
  [Op.CrdtPersistShared]: "crdt-state.persist",
  [Op.CrdtDrop]: "crdt-state drop",
  [Op.TypeNames]: "logical-type.names",
  [Op.TypeArrowType]: "logical-type.arrow-type",
  [Op.TypeEncodingVersion]: "logical-type.encoding-version",
  [Op.TypeFromLiteral]: "logical-type.from-literal",
  [Op.TypeToDisplay]: "logical-type.to-display",
  [Op.TypeCastFrom]: "logical-type.cast-from",
  [Op.TypeCastTo]: "logical-type.cast-to",
};

// ---------------------------------------------------------------- the shared-memory channel

/** Int32 slots at the start of the channel buffer; slot {@link STATE} is the one both sides wait on. */
export const STATE = 0;
/**
 * The sequence number of the request main waits for with a wake-up message instead of spinning (0: none).
 * The worker clears it only for the request it answered, so a late worker never consumes the flag of the
 * next request.
 */
export const MAIN_WAITING = 1;
/** The sequence number of the request in the data area (never 0). */
export const SEQ = 2;
/** 1 while the worker sleeps in `Atomics.wait` (a hint: main only spins briefly for a sleeping worker). */
export const WORKER_SLEEPING = 3;
/** Bytes before the data area. */
export const CONTROL_BYTES = 64;

/** Worker waits for work. */
export const IDLE = 0;
/** Main wrote a request into the data area. */
export const REQUEST = 1;
/** Worker wrote the response into the data area. */
export const RESPONSE = 2;
/** Worker sent the response by message (too big for the buffer, or shared bytes). */
export const POSTED = 3;
/** Main sent a request by message: the worker leaves its wait loop to receive it. */
export const YIELD = 4;
/** Main is ending the worker: leave the loop for good. */
export const STOP = 5;

// ---------------------------------------------------------------- messages

/** The sink expectation of a stream call, as it crosses: mode index (live, staged, sealed), next LSN, stream name. */
export type WireSink = [mode: number, nextLsn: bigint, stream: string | undefined] | undefined;
export type WireRequest = [op: Op, target: number, args: unknown[], sink: WireSink];
/** `[name, code, message, retryable, pluginId, field]`. */
export type WireError = [string, number, string, boolean, string | undefined, string | undefined];
/** One accepted `cdc-sink.emit`: `[output, lsnStart, lsnEnd, payload]`. */
export type WireEmit = [string, bigint, bigint, Uint8Array];
/** Status 0: `value` is the result; 1: `value` is a {@link WireError}. `state` is the instance's after the call. */
export type WireResponse = [status: 0 | 1, state: number, logBatches: number, value: unknown, emits: WireEmit[]];

export const SINK_MODES = ["live", "staged", "sealed"] as const;

/** The component module's description, enough to rebuild a `ComponentModule` around the same compiled module. */
export interface ModuleMeta {
  hash: string;
  surfaces: SurfaceName[];
  requiredImports: HostImportName[];
  memoryPagesCeiling: number;
  memoryPages: { initial: number; maximum: number };
  coreExports: string[];
  componentImports: string[];
  componentExports: string[];
}

export function moduleMeta(m: ComponentModule): ModuleMeta {
  return {
    hash: m.hash,
    surfaces: [...m.surfaces],
    requiredImports: [...m.requiredImports],
    memoryPagesCeiling: m.memoryPagesCeiling,
    memoryPages: { ...m.memoryPages },
    coreExports: [...m.coreExports],
    componentImports: [...m.componentImports],
    componentExports: [...m.componentExports],
  };
}

/** Main → worker, first and only once. */
export interface InitMessage {
  kind: "init";
  module: WebAssembly.Module;
  meta: ModuleMeta;
  pluginId: string;
  grants: string[];
  /** Further instantiate options (plain data) passed through unchanged. */
  forward: Record<string, unknown>;
  wantsLog: boolean;
  /** The shared channel, when main uses one. Without it the worker uses no shared memory at all. */
  channel: SharedArrayBuffer | undefined;
  workerSpinMicros: number;
}

/** Main → worker: a request sent by message. */
export interface CallMessage {
  kind: "call";
  request: WireRequest;
}

/** Worker → main. */
export type WorkerMessage =
  | { kind: "response"; response: WireResponse }
  /** The response is in the shared buffer and main had stopped spinning. */
  | { kind: "wake" }
  /** `[level index, message, level index, message, …]` in order. */
  | { kind: "log"; lines: (number | string)[] };

// ---------------------------------------------------------------- errors

/** A thrown value as it crosses. Anything not a `PluginError` is a bug in the worker: it crosses as a trap. */
export function errorToWire(err: unknown, pluginId: string): WireError {
  if (err instanceof PluginError) {
    return [err.name, err.code, err.message, err.retryable, err.pluginId, (err as ManifestError).field];
  }
  const message = err instanceof Error ? err.message : String(err);
  return ["TrapError", ErrorCode.Trap, `plugin ${pluginId}: worker failure: ${message}`, false, pluginId, undefined];
}

/** The same error class, code, message, retryable and plugin id as thrown in the worker. */
export function errorFromWire(w: WireError): PluginError {
  const [name, code, message, retryable, pluginId, field] = w;
  const options = { retryable, ...(pluginId === undefined ? {} : { pluginId }) };
  switch (name) {
    case "PluginCallError":
      return new PluginCallError(code, message, options);
    case "TrapError":
      return new TrapError(code, message, options);
    case "LoadError":
      return new LoadError(code, message, options);
    case "ManifestError":
      return new ManifestError(code, message, field, options);
    case "RegistryError":
      return new RegistryError(code, message, options);
    default:
      return new PluginError(code, message, options);
  }
}
