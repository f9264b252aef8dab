/**
 * `WorkerInstance`: a `ComponentInstance` living in its own worker, behind a main-thread proxy of the
 * same shape whose every call returns a Promise and has a deadline.
 *
 * Errors cross typed: what the worker's instance throws is rethrown here as the same class with the
 * same code, message, retryable and plugin id; a trap poisons the remote instance exactly as in-thread.
 * A call past its deadline rejects with `DeadlineExceeded` (retryable), together with every call
 * queued behind it; the worker is terminated, the instance is dead (`poisoned`, later calls refused
 * at once with `TrapError(Poisoned)` naming why), and `onDeath` runs so the host can restore.
 *
 * @module
 */
import type { LogStats } from "../component/log-limit.ts";
import type { ComponentModule } from "../component/module.ts";
import type { SurfaceName } from "../component/types.ts";
import { ErrorCode, LoadError, PluginError } from "../errors.ts";
import { Connection, sharedChannelAvailable } from "./connection.ts";
import { webWorkerFactory } from "./factory.ts";
import { CONTROL_BYTES, type InitMessage, moduleMeta, Op } from "./protocol.ts";
import { badCallOptions, invoke } from "./remote.ts";
import { RemoteCdcClient } from "./remote-cdc.ts";
import { RemoteCrdtClient } from "./remote-crdt.ts";
import { RemoteIndexClient } from "./remote-index.ts";
import { RemoteLogicalTypeClient } from "./remote-logical-type.ts";
import type { CallOptions, SpawnOptions, WorkerDeath, WorkerLike } from "./types.ts";

/** Default deadline of every call, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CHANNEL_BYTES = 256 * 1024;
const DEFAULT_MAIN_SPIN_MICROS = 40;
const DEFAULT_WORKER_SPIN_MICROS = 200;

/** Spawn options consumed here; every other plain-data option is passed on to `ComponentInstance.instantiate`. */
const SPAWN_ONLY = new Set([
  "pluginId",
  "grants",
  "log",
  "onDeath",
  "timeoutMs",
  "memoryPagesCeiling",
  "channel",
  "channelBytes",
  "workerFactory",
  "resourceLimits",
  "spinMicros",
  "cdcSink",
]);
// Everything else — e.g. `logLimits` (the host-log caps) — reaches `instantiate` in the worker as it is.

export class WorkerInstance {
  /** The index surface, when the component exports it. */
  readonly index: RemoteIndexClient | undefined;
  readonly cdc: RemoteCdcClient | undefined;
  readonly crdt: RemoteCrdtClient | undefined;
  readonly logicalType: RemoteLogicalTypeClient | undefined;
  /** The channel calls take: shared memory + Atomics, or messages only. */
  readonly channel: "atomics" | "message";
  readonly #conn: Connection;
  #lastLogStats: LogStats = { delivered: 0, dropped: 0, droppedBytes: 0, truncated: 0 };

  private constructor(
    readonly module: ComponentModule,
    conn: Connection,
  ) {
    this.#conn = conn;
    this.channel = conn.shared ? "atomics" : "message";
    const s = module.surfaces;
    this.index = s.has("index") ? new RemoteIndexClient(conn) : undefined;
    this.cdc = s.has("cdc") ? new RemoteCdcClient(conn) : undefined;
    this.crdt = s.has("crdt") ? new RemoteCrdtClient(conn) : undefined;
    this.logicalType = s.has("logical-type") ? new RemoteLogicalTypeClient(conn) : undefined;
  }

  /**
   * Starts a worker, hands it `module`'s compiled `WebAssembly.Module` (structured clone: never
   * recompiled) and instantiates it there with the host's imports.
   *
   * # Errors
   * As `ComponentInstance.instantiate` (e.g. `LoadError(CapabilityDenied)`), plus:
   * `PluginError(TypeCoercion)` for bad options; `LoadError(ResourceLimit)` when the module's memory
   * maximum exceeds `memoryPagesCeiling`; `PluginError(Forbidden)` for `channel: "atomics"` where shared
   * memory is unavailable; `PluginError(Io)` when no worker can be started; `DeadlineExceeded` when the
   * start-up (including the guest's `_initialize`) outlives `call.timeoutMs` (default: `timeoutMs`).
   * A failed spawn leaves no worker behind and does not call `onDeath`.
   */
  static async spawn(module: ComponentModule, options: SpawnOptions, call?: CallOptions): Promise<WorkerInstance> {
    const checked = checkSpawn(module, options, call);
    const useShared = checked.channel === "atomics";
    let worker: WorkerLike;
    try {
      worker = (options.workerFactory ?? webWorkerFactory)({
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PluginError(ErrorCode.Io, `plugin ${options.pluginId}: cannot start a worker: ${reason}`, {
        pluginId: options.pluginId,
        cause: err,
      });
    }
    const sab = useShared ? new SharedArrayBuffer(CONTROL_BYTES + checked.channelBytes) : undefined;
    let ready = false;
    const onDeath = options.onDeath;
    const conn = new Connection({
      pluginId: options.pluginId,
      worker,
      channel: sab,
      timeoutMs: checked.timeoutMs,
      mainSpinMicros: options.spinMicros?.main ?? DEFAULT_MAIN_SPIN_MICROS,
      log: options.log as ((level: string, message: string) => void) | undefined,
      onDeath: onDeath && ((death: WorkerDeath) => ready && onDeath(death)),
    });
    const init: InitMessage = {
      kind: "init",
      module: module.module,
      meta: moduleMeta(module),
      pluginId: options.pluginId,
      grants: [...options.grants],
      forward: forwarded(options),
      wantsLog: typeof options.log === "function",
      channel: sab,
      workerSpinMicros: options.spinMicros?.worker ?? DEFAULT_WORKER_SPIN_MICROS,
    };
    try {
      await conn.call(Op.Init, 0, [], call?.timeoutMs, false, { init });
    } catch (err) {
      conn.terminate((what) => new PluginError(ErrorCode.Disposed, `plugin ${options.pluginId}: ${what} abandoned`));
      throw err;
    }
    ready = true;
    return new WorkerInstance(module, conn);
  }

  /** The plugin id used in every error. Settable (the host may learn it from the manifest); the worker follows. */
  get pluginId(): string {
    return this.#conn.pluginId;
  }
  set pluginId(id: string) {
    this.#conn.pluginId = String(id);
    this.#conn.call(Op.SetPluginId, 0, [String(id)], undefined).catch(() => {
      // Refused only on a gone instance, whose calls all refuse anyway.
    });
  }

  /** The component's JSON manifest, unparsed. */
  manifest(call?: CallOptions): Promise<string> {
    return invoke(this.#conn, Op.Manifest, 0, [], call) as Promise<string>;
  }

  /** Whether a trap poisoned the instance, or its worker died (deadline or crash). */
  get poisoned(): boolean {
    return this.#conn.poisoned;
  }

  get disposed(): boolean {
    return this.#conn.disposed;
  }

  /** Why the worker died, once it has. */
  get death(): WorkerDeath | undefined {
    return this.#conn.death;
  }

  /** Live resource handles per surface, as the worker's instance counts them (all 0 once the worker is gone). */
  async liveHandles(call?: CallOptions): Promise<Record<SurfaceName, number>> {
    if (this.#conn.gone) {
      const bad = badCallOptions("liveHandles", call);
      if (bad) throw bad;
      return { index: 0, cdc: 0, crdt: 0, "logical-type": 0 };
    }
    const [index, cdc, crdt, logicalType] = (await invoke(this.#conn, Op.LiveHandles, 0, [], call)) as number[];
    return { index: index ?? 0, cdc: cdc ?? 0, crdt: crdt ?? 0, "logical-type": logicalType ?? 0 };
  }

  /**
   * What the worker instance's `host-log` delivered and what its caps held back (a snapshot). Once the
   * worker is gone: the last snapshot taken (zeros if none was).
   */
  async logStats(call?: CallOptions): Promise<LogStats> {
    if (this.#conn.gone) {
      const bad = badCallOptions("logStats", call);
      if (bad) throw bad;
      return { ...this.#lastLogStats };
    }
    const [delivered, dropped, droppedBytes, truncated] = (await invoke(
      this.#conn,
      Op.LogStats,
      0,
      [],
      call,
    )) as number[];
    this.#lastLogStats = {
      delivered: delivered ?? 0,
      dropped: dropped ?? 0,
      droppedBytes: droppedBytes ?? 0,
      truncated: truncated ?? 0,
    };
    return { ...this.#lastLogStats };
  }

  /** Current size of the guest's linear memory in bytes (0 once the worker is gone). */
  async memoryBytes(call?: CallOptions): Promise<number> {
    if (this.#conn.gone) {
      const bad = badCallOptions("memoryBytes", call);
      if (bad) throw bad;
      return 0;
    }
    return (await invoke(this.#conn, Op.MemoryBytes, 0, [], call)) as number;
  }

  /**
   * Runs every live destructor in the worker (after the calls already queued), then ends the worker.
   * Calls made after `dispose()` is called reject with `Disposed`. Idempotent; resolves also when the
   * worker died meanwhile (there is nothing left to release).
   */
  async dispose(call?: CallOptions): Promise<void> {
    const conn = this.#conn;
    if (conn.gone) {
      conn.finishDispose();
      return;
    }
    const bad = badCallOptions("dispose", call);
    if (bad) throw bad;
    conn.close();
    try {
      await conn.call(Op.Dispose, 0, [], call?.timeoutMs);
    } catch {
      // A trap in a destructor (the worker's instance still releases every handle) or a death: either way it ends.
    } finally {
      conn.finishDispose();
    }
  }

  /**
   * Ends the worker now, without running destructors: pending calls reject with `Disposed`, the
   * instance is disposed, `onDeath` is not called. For a host abandoning an instance it no longer trusts.
   */
  terminate(): void {
    this.#conn.terminate(
      (what) =>
        new PluginError(ErrorCode.Disposed, `plugin ${this.pluginId}: ${what} abandoned: the worker was terminated`, {
          pluginId: this.pluginId,
        }),
    );
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

interface CheckedSpawn {
  channel: "atomics" | "message";
  timeoutMs: number;
  channelBytes: number;
}

/** Validates `spawn`'s arguments (throws the typed refusal; `spawn` is async, so it becomes a rejection). */
function checkSpawn(module: ComponentModule, options: SpawnOptions, call: CallOptions | undefined): CheckedSpawn {
  if (!(module?.module instanceof WebAssembly.Module)) {
    throw new PluginError(ErrorCode.TypeCoercion, "spawn: expected a ComponentModule (from ComponentModule.compile)");
  }
  const { pluginId, grants } = options ?? ({} as SpawnOptions);
  if (typeof pluginId !== "string" || typeof grants?.has !== "function") {
    throw new PluginError(ErrorCode.TypeCoercion, "spawn: options need a string pluginId and a set of grants");
  }
  const bad = badCallOptions("spawn", call) ?? badCallOptions("spawn", { timeoutMs: options.timeoutMs });
  if (bad) throw bad;
  for (const name of ["log", "onDeath", "workerFactory"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new PluginError(ErrorCode.TypeCoercion, `spawn: ${name} must be a function`, { pluginId });
    }
  }
  const ceiling = options.memoryPagesCeiling;
  if (ceiling !== undefined) {
    if (!Number.isInteger(ceiling) || ceiling < 1 || ceiling > 65536) {
      throw new LoadError(
        ErrorCode.ResourceLimit,
        `memoryPagesCeiling must be an integer in [1, 65536], got ${ceiling}`,
        {
          pluginId,
        },
      );
    }
    if (module.memoryPages.maximum > ceiling) {
      throw new LoadError(
        ErrorCode.ResourceLimit,
        `plugin ${pluginId}: the module may grow to ${module.memoryPages.maximum} pages of memory, above the ceiling ` +
          `of ${ceiling}; compile it with memoryPagesCeiling: ${ceiling} (a spawn never recompiles)`,
        { pluginId },
      );
    }
  }
  const channelBytes = options.channelBytes ?? DEFAULT_CHANNEL_BYTES;
  if (!Number.isInteger(channelBytes) || channelBytes < 1024 || channelBytes > 1 << 30) {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `spawn: channelBytes must be an integer in [1024, 2^30], got ${channelBytes}`,
      {
        pluginId,
      },
    );
  }
  const wanted = options.channel ?? "auto";
  if (wanted !== "auto" && wanted !== "atomics" && wanted !== "message") {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `spawn: channel must be "auto", "atomics" or "message", got ${String(wanted)}`,
      {
        pluginId,
      },
    );
  }
  const available = sharedChannelAvailable();
  if (wanted === "atomics" && !available) {
    throw new PluginError(
      ErrorCode.Forbidden,
      `plugin ${pluginId}: channel "atomics" needs SharedArrayBuffer (in a browser: a cross-origin isolated page)`,
      { pluginId },
    );
  }
  return {
    channel: wanted === "message" || !available ? "message" : "atomics",
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    channelBytes,
  };
}

/** Options meant for `instantiate` that are plain data (functions cannot cross to the worker). */
function forwarded(options: SpawnOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!SPAWN_ONLY.has(key) && typeof value !== "function") out[key] = value;
  }
  return out;
}
