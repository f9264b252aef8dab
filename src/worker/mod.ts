/**
 * The worker runtime layer: a component instance living in a Web Worker (browsers, Deno) or a Node
 * `worker_threads` worker, behind a main-thread proxy with per-call deadlines. See `README.md` here.
 *
 * ```ts
 * const module = await ComponentModule.compile(bytes, { memoryPagesCeiling: 1024 });
 * const instance = await WorkerInstance.spawn(module, {
 *   pluginId: "dev.uni.vector-flat",
 *   grants: new Set(["index"]),
 *   timeoutMs: 1000,
 *   onDeath: (death) => restore(death),
 *   // Node: workerFactory: nodeWorkerFactory() from the Node adapter
 * });
 * const handle = await instance.index!.build("vector.flat", ipc, "{}");
 * const hits = await handle.probe(query, 10, { timeoutMs: 50 });
 * ```
 *
 * @module
 */
export { DEFAULT_TIMEOUT_MS, WorkerInstance } from "./instance.ts";
export { RemoteCdcClient, RemoteCdcStream } from "./remote-cdc.ts";
export { RemoteCrdtClient, RemoteCrdtState } from "./remote-crdt.ts";
export { RemoteIndexClient, RemoteIndexHandle } from "./remote-index.ts";
export { RemoteLogicalTypeClient } from "./remote-logical-type.ts";
export { persistShared } from "./shared.ts";
export { webWorkerFactory } from "./factory.ts";
export { serveWorker, type WorkerScope } from "./serve.ts";
export { sharedChannelAvailable } from "./connection.ts";
export type { LogLimits, LogStats } from "../component/log-limit.ts";
export type {
  AcceptedEmit,
  CallOptions,
  SinkExpectation,
  SpawnOptions,
  StreamCallOptions,
  WorkerDeath,
  WorkerFactory,
  WorkerLike,
  WorkerResourceLimits,
} from "./types.ts";
