/**
 * The component runtime core: load a `uni:plugin@1.0.0` component's bytes,
 * validate and compile them (`ComponentModule`), instantiate (`ComponentInstance`)
 * and call its surfaces through typed synchronous clients.
 *
 * ```ts
 * const module = await ComponentModule.compile(bytes, { memoryPagesCeiling: 1024 });
 * const instance = await ComponentInstance.instantiate(module, { pluginId: "dev.uni.x", grants: new Set() });
 * const handle = instance.index!.build("vector.flat", ipc, "{}");
 * ```
 *
 * @module
 */
export { ComponentInstance } from "./instance.ts";
export { ComponentModule } from "./module.ts";
export {
  type CdcSink,
  type ChangeBatch,
  type CompileOptions,
  DEFAULT_MEMORY_PAGES_CEILING,
  type HostImportName,
  type InstantiateOptions,
  type LogLevel,
  type SurfaceName,
} from "./types.ts";
export { DEFAULT_LOG_LIMITS, type LogLimits, type LogStats } from "./log-limit.ts";
export { CdcClient, CdcStream } from "../surfaces/cdc.ts";
export { CrdtClient, CrdtState } from "../surfaces/crdt.ts";
export { IndexClient, IndexHandle } from "../surfaces/index.ts";
export { LogicalTypeClient } from "../surfaces/logical-type.ts";
export { fromIPC, toIPC } from "../arrow.ts";
