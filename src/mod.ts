/**
 * uni-plugin-runtime: hot-reloadable WebAssembly component plugins for
 * database surfaces (index kinds, CDC outputs, CRDT kinds, logical types), in
 * browsers, Deno and Node, on Web-standard APIs only.
 *
 * @example
 * ```ts
 * import { PluginHost } from "uni-plugin-runtime";
 * const host = new PluginHost();
 * const crdt = await host.load(await fetch("/plugins/crdt-v1.wasm"));
 * const likes = await host.createCrdt("likes", "pn-counter");
 * await likes.apply(["replica-a", 1]);
 * await host.reload(crdt, await fetch("/plugins/crdt-v2.wasm")); // likes keeps its value, now on v2
 * ```
 *
 * @module
 */
export { PluginHost, type HostOptions, type LoadOptions, type PluginInfo, type Lease } from "./host.ts";
export type { Isolation, PluginHandle } from "./plugin.ts";
export type { CallOptions } from "./resources/clients.ts";
export type { RestoreReport } from "./durable/restore.ts";
export type { StateStore } from "./store/types.ts";
export type { WorkerDeath, WorkerFactory, WorkerResourceLimits } from "./worker/types.ts";
export type { ReloadOptions, ReloadReport, ReloadContext, StepName, StepReport } from "./reload.ts";
export { LiveIndex } from "./resources/index.ts";
export { LiveCrdt } from "./resources/crdt.ts";
export {
  LiveCdc,
  type CdcEmit,
  type CdcOptions,
  type CdcOrigin,
  type CdcPosition,
  type CdcPublishMeta,
  type CdcRetain,
  type CdcRetry,
  type CdcSink,
  type CdcStreamState,
  type CdcLogEntry,
} from "./resources/cdc.ts";
export { LogicalType } from "./resources/logical-type.ts";
export {
  CAPABILITIES,
  HOST_ABI,
  SUPPORTED_ABI_MAJORS,
  parseManifest,
  type Capability,
  type Manifest,
  type Surface,
} from "./manifest.ts";
export type { PluginSource, ReadFile } from "./sources.ts";
export {
  CdcSinkError,
  ErrorCode,
  LoadError,
  ManifestError,
  PluginCallError,
  PluginError,
  RegistryError,
  ReloadError,
  TrapError,
  toPluginError,
} from "./errors.ts";
export { type ArrowInput, fromIPC, toIPC } from "./arrow.ts";
export * as component from "./component/mod.ts";
