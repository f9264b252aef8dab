/**
 * `ComponentInstance`: one live instance of a `ComponentModule`, with the
 * host's imports linked, per-instance resource tables, and typed synchronous
 * surface clients (`index`, `cdc`, `crdt`, `logicalType`).
 *
 * Trap policy: anything escaping a core call becomes `TrapError(Trap)` and
 * poisons the instance; every later call throws `TrapError(Poisoned)` without
 * entering wasm. A plugin's fn-error is a `PluginCallError` and does not poison.
 *
 * @module
 */
import { ErrorCode, LoadError, PluginError } from "../errors.ts";
import { CdcClient } from "../surfaces/cdc.ts";
import { CrdtClient } from "../surfaces/crdt.ts";
import { IndexClient } from "../surfaces/index.ts";
import { LogicalTypeClient } from "../surfaces/logical-type.ts";
import { CDC_SINK, HOST_LOG, interfaceName, SURFACE_RESOURCE, SURFACES } from "./abi.ts";
import { DISPOSED, Guest, POISONED } from "./guest.ts";
import { LogLimiter, type LogStats } from "./log-limit.ts";
import type { ComponentModule } from "./module.ts";
import { ResourceTable } from "./resources.ts";
import type { CdcSink, InstantiateOptions, LogLevel, SurfaceName } from "./types.ts";

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];
const lenient = new TextDecoder();

type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;

export class ComponentInstance {
  /** The index surface, when the component exports it. */
  readonly index: IndexClient | undefined;
  readonly cdc: CdcClient | undefined;
  readonly crdt: CrdtClient | undefined;
  readonly logicalType: LogicalTypeClient | undefined;
  /**
   * @internal The raw core exports, for benchmarks' baseline and debugging.
   * Calling them bypasses validation, trap handling and resource tables.
   */
  readonly core: WebAssembly.Exports;

  private readonly g: Guest;
  private readonly tables: Map<SurfaceName, ResourceTable>;
  private readonly dtors: Map<SurfaceName, (rep: number) => void>;
  private readonly manifestFn: () => number;
  private readonly postManifest: (area: number) => void;
  #logStats: LogStats = { delivered: 0, dropped: 0, droppedBytes: 0, truncated: 0 };

  private constructor(
    readonly module: ComponentModule,
    g: Guest,
    exports: WebAssembly.Exports,
    tables: Map<SurfaceName, ResourceTable>,
  ) {
    this.g = g;
    this.core = exports;
    this.tables = tables;
    const s = module.surfaces;
    this.index = s.has("index") ? new IndexClient(g, tables.get("index") as ResourceTable, exports) : undefined;
    this.cdc = s.has("cdc") ? new CdcClient(g, tables.get("cdc") as ResourceTable, exports) : undefined;
    this.crdt = s.has("crdt") ? new CrdtClient(g, tables.get("crdt") as ResourceTable, exports) : undefined;
    this.logicalType = s.has("logical-type") ? new LogicalTypeClient(g, exports) : undefined;
    this.dtors = new Map();
    for (const surface of s) {
      const resource = SURFACE_RESOURCE[surface];
      if (resource) {
        this.dtors.set(surface, exports[`${interfaceName(surface)}#[dtor]${resource}`] as (rep: number) => void);
      }
    }
    this.manifestFn = exports.manifest as () => number;
    this.postManifest = (exports.cabi_post_manifest as ((a: number) => void) | undefined) ?? (() => {});
  }

  /**
   * Instantiates `module` with the host's imports. Throws
   * `LoadError(CapabilityDenied)` when the module imports `cdc-sink` and
   * `grants` lacks it.
   */
  static async instantiate(module: ComponentModule, options: InstantiateOptions): Promise<ComponentInstance> {
    const { pluginId, grants } = options;
    if (typeof pluginId !== "string" || typeof grants?.has !== "function") {
      throw new PluginError(ErrorCode.TypeCoercion, "instantiate: options need a string pluginId and a set of grants");
    }
    const needsSink = module.requiredImports.has("cdc-sink");
    if (needsSink && !grants.has("cdc-sink")) {
      throw new LoadError(
        ErrorCode.CapabilityDenied,
        `plugin ${pluginId} imports ${CDC_SINK} (emit) but capability "cdc-sink" is not granted`,
        { pluginId },
      );
    }
    if (needsSink && typeof options.cdcSink !== "function") {
      throw new LoadError(
        ErrorCode.CapabilityDenied,
        `plugin ${pluginId} imports ${CDC_SINK}; "cdc-sink" is granted but the host supplied no cdcSink`,
        { pluginId },
      );
    }

    // Imports close over `ref`, filled once the instance exists (the guest cannot call them before).
    const ref: { g?: Guest } = {};
    const instanceRef: { value?: ComponentInstance } = {};
    const tables = new Map<SurfaceName, ResourceTable>();
    const limiter = new LogLimiter(options.logLimits);
    const imports: WebAssembly.Imports = { [HOST_LOG]: { log: makeLog(ref, options.log, limiter) } };
    if (needsSink) imports[CDC_SINK] = { emit: makeEmit(ref, options.cdcSink as CdcSink) };
    for (const surface of SURFACES) {
      const resource = SURFACE_RESOURCE[surface];
      if (!resource || !module.surfaces.has(surface)) continue;
      const table = new ResourceTable(resource);
      tables.set(surface, table);
      imports[`[export]${interfaceName(surface)}`] = {
        [`[resource-new]${resource}`]: (rep: number) => table.add(rep),
        [`[resource-rep]${resource}`]: (handle: number) => table.rep(handle),
        [`[resource-drop]${resource}`]: (handle: number) => {
          // The guest dropping its own handle runs its destructor, as the canonical ABI does.
          const rep = table.remove(handle);
          const dtor = instanceRef.value?.dtors.get(surface);
          dtor?.(rep);
        },
      };
    }

    let raw: WebAssembly.Instance;
    try {
      raw = await WebAssembly.instantiate(module.module, imports);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new LoadError(ErrorCode.InvalidComponent, `plugin ${pluginId} failed to instantiate: ${reason}`, {
        pluginId,
        cause: err,
      });
    }
    const exports = raw.exports;
    const g = new Guest(
      pluginId,
      exports.memory as WebAssembly.Memory,
      exports.cabi_realloc as Realloc,
      module.memoryPagesCeiling,
    );
    ref.g = g;
    const instance = new ComponentInstance(module, g, exports, tables);
    instance.#logStats = limiter.stats;
    instanceRef.value = instance;
    const init = exports._initialize as (() => void) | undefined;
    if (init) {
      try {
        init();
      } catch (err) {
        throw g.trap(err, "_initialize");
      }
    }
    return instance;
  }

  /**
   * The plugin id used in every error. Settable: a host that instantiates
   * before it has read the manifest can fix the id afterwards.
   */
  get pluginId(): string {
    return this.g.pluginId;
  }
  set pluginId(id: string) {
    this.g.pluginId = String(id);
  }

  /** The component's JSON manifest (see docs/manifest.md), unparsed. */
  manifest(): string {
    const g = this.g;
    if (!g.live) g.refuse("manifest");
    try {
      const area = this.manifestFn();
      const json = g.string(area);
      this.postManifest(area);
      return json;
    } catch (e) {
      throw g.trap(e, "manifest");
    }
  }

  /** What `host-log` has delivered, and what its size and rate caps held back (a snapshot). */
  get logStats(): LogStats {
    return { ...this.#logStats };
  }

  /** Whether a trap has poisoned this instance. */
  get poisoned(): boolean {
    return this.g.state === POISONED;
  }

  get disposed(): boolean {
    return this.g.state === DISPOSED;
  }

  /** Live resource handles per surface (leak checks, drain decisions). */
  liveHandles(): Record<SurfaceName, number> {
    const out = { index: 0, cdc: 0, crdt: 0, "logical-type": 0 };
    for (const [surface, table] of this.tables) out[surface] = table.size;
    return out;
  }

  /** Current size of the guest's linear memory in bytes (0 after dispose). */
  memoryBytes(): number {
    return this.g.state === DISPOSED ? 0 : this.g.memoryBytes();
  }

  /**
   * Drops every live resource (running guest destructors unless poisoned) and
   * makes every later call throw `ErrorCode.Disposed`. Idempotent. A destructor
   * that traps stops further guest calls, but every handle is still released.
   */
  dispose(): void {
    const g = this.g;
    if (g.state === DISPOSED) return;
    if (g.inImport) g.refuse("dispose");
    for (const [surface, table] of this.tables) {
      const dtor = this.dtors.get(surface) as (rep: number) => void;
      for (const handle of table.handles()) {
        const rep = table.remove(handle);
        if (!g.live) continue;
        try {
          dtor(rep);
        } catch (e) {
          g.trap(e, "dispose"); // poisons; the rest are released without entering wasm
        }
      }
    }
    g.state = DISPOSED;
    g.live = false;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function makeLog(
  ref: { g?: Guest },
  sink: InstantiateOptions["log"],
  limiter: LogLimiter,
): (level: number, ptr: number, len: number) => void {
  return (level, ptr, len) => {
    const g = ref.g as Guest;
    const name = LEVELS[level];
    if (name === undefined) throw new Error(`host-log.log: level ${level >>> 0} is not a valid enum value`);
    // Checked before anything else, sink or not: a bad pointer is a broken guest either way.
    const at = g.range(ptr, len, "host-log.log message");
    const size = len >>> 0;
    // The AssemblyScript SDK's abort handler logs `abort: <message>` at error level right before it traps:
    // remember it, so the TrapError says what the plugin said (read whether or not anyone listens to logs).
    if (level === 4 && size >= 7) {
      const head = lenient.decode(g.bytes().subarray(at, at + Math.min(size, 2048)));
      if (head.startsWith("abort: ")) g.abortMessage = head.slice(7);
    }
    if (!sink) return;
    const kept = limiter.admit(size);
    if (kept < 0) return; // over the rate cap: dropped and counted, nothing decoded
    // Lenient decoding: a log line with a bad byte is still worth reading.
    let message = lenient.decode(g.bytes().subarray(at, at + kept));
    if (kept < size) message += ` [truncated: ${size - kept} more bytes]`;
    g.enterImport();
    try {
      sink(name, message);
    } finally {
      g.leaveImport();
    }
  };
}

function makeEmit(
  ref: { g?: Guest },
  sink: CdcSink,
): (op: number, ol: number, s: bigint, e: bigint, pp: number, pl: number, ret: number) => void {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return (outPtr, outLen, lsnStart, lsnEnd, payPtr, payLen, retArea) => {
    const g = ref.g as Guest;
    // Pointers and lengths are unsigned 32-bit: 0xfffffff0 is near the top of memory, not -16.
    const out = g.range(outPtr, outLen, "cdc-sink.emit output");
    const pay = g.range(payPtr, payLen, "cdc-sink.emit payload");
    g.range(retArea, 20, "cdc-sink.emit return area");
    const mem = g.bytes();
    let output: string;
    try {
      output = decoder.decode(mem.subarray(out, out + (outLen >>> 0)));
    } catch {
      throw new Error("cdc-sink.emit: the output name is not valid UTF-8");
    }
    // Copy: the host may keep the payload, and guest memory can grow (detaching views) later.
    const payload = mem.slice(pay, pay + (payLen >>> 0));
    let failure: PluginError | undefined;
    g.enterImport();
    try {
      sink(output, BigInt.asUintN(64, lsnStart), BigInt.asUintN(64, lsnEnd), payload);
    } catch (err) {
      // A typed PluginError is a deliberate refusal: the guest gets it as a fn-error.
      // Anything else is a host bug: it escapes and traps the call.
      if (!(err instanceof PluginError)) throw err;
      failure = err;
    } finally {
      g.leaveImport();
    }
    g.writeResult(retArea, failure);
  };
}
