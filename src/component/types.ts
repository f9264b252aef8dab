/**
 * The public shapes of the component runtime core: what `ComponentModule`,
 * `ComponentInstance` and the surface clients promise. Host code (PluginHost,
 * registry, reload) should depend on these interfaces, not on the classes.
 *
 * @module
 */

import type { LogLimits } from "./log-limit.ts";

/** The four stateful surfaces a `uni:plugin` component may export. */
export type SurfaceName = "index" | "cdc" | "crdt" | "logical-type";

/** Host imports a component may need; `host-log` is always linked, `cdc-sink` needs its capability. */
export type HostImportName = "host-log" | "cdc-sink";

/** `host-log` levels, in the WIT enum's order (trace = 0 … error = 4). */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export interface CompileOptions {
  /**
   * Host ceiling on the guest's linear memory, in 64 KiB pages. The module's
   * declared maximum is lowered to this; an initial size above it is refused
   * (`ErrorCode.ResourceLimit`). Default: {@link DEFAULT_MEMORY_PAGES_CEILING}.
   */
  memoryPagesCeiling?: number;
}

/** 16384 pages = 1 GiB, upstream uni-plugin's default cap. */
export const DEFAULT_MEMORY_PAGES_CEILING = 16384;

/** Receives what a CDC output hands on through `cdc-sink.emit`. Throw a `PluginError` to return a fn-error to the guest. */
export type CdcSink = (output: string, lsnStart: bigint, lsnEnd: bigint, payload: Uint8Array) => void;

export interface InstantiateOptions {
  /** Used in every error and trap report. */
  pluginId: string;
  /** Effective capabilities (declared ∩ granted). `cdc-sink` must be here if the module imports it. */
  grants: ReadonlySet<string>;
  /** `host-log` messages; dropped when absent. */
  log?: (level: LogLevel, message: string) => void;
  /** Size and rate caps on `host-log` (defaults: 16 KiB per message, 1000 messages and 1 MiB per second). */
  logLimits?: LogLimits;
  /** `cdc-sink.emit`; required (with the grant) when the module imports `cdc-sink`. */
  cdcSink?: CdcSink;
}

/** One change batch for `CdcStream.deliver`. LSNs are u64: [lsnStart, lsnEnd). */
export interface ChangeBatch {
  lsnStart: bigint;
  lsnEnd: bigint;
  /** Arrow IPC stream bytes. */
  mutations: Uint8Array;
  /** Microseconds since the Unix epoch (s64). */
  commitMicros: bigint;
}
