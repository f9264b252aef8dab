/**
 * `PluginHost`: loads plugin components, registers what they provide, owns the
 * live resources (indexes, CDC streams, CRDT states) that reload hands over.
 *
 * @example
 * ```ts
 * import { PluginHost } from "./mod.ts";
 * const host = new PluginHost();
 * const plugin = await host.load(new URL("./vector-flat-v1.wasm", import.meta.url));
 * const idx = await host.createIndex("docs", "vector.flat", table, { metric: "cosine" });
 * const hits = await idx.probe(queries, 10);
 * await host.reload(plugin, new URL("./vector-flat-v2.wasm", import.meta.url)); // idx keeps serving, now on v2
 * ```
 *
 * @module
 */
import { type ArrowInput, ipcOf } from "./arrow.ts";
import type { LogLimits, LogStats } from "./component/log-limit.ts";
import { DEFAULT_MEMORY_PAGES_CEILING, type LogLevel } from "./component/types.ts";
import { ErrorCode, LoadError, PluginError, RegistryError, toPluginError } from "./errors.ts";
import { Gate } from "./gate.ts";
import { checkBytes, checkCount, checkKey, checkLsn, checkName, optionsJson } from "./input.ts";
import { CAPABILITIES, type Capability, type Manifest, type Surface } from "./manifest.ts";
import { type Isolation, type PluginHandle, type PluginVersion, type SpawnWorker, stamp, vetPlugin } from "./plugin.ts";
import { Registry } from "./registry.ts";
import { type ReloadHost, type ReloadOptions, type ReloadReport, reload as runReload } from "./reload.ts";
import { type CdcOptions, LiveCdc } from "./resources/cdc.ts";
import { LiveCrdt, sharedState } from "./resources/crdt.ts";
import { type LiveResource, type PluginEntry, through } from "./resources/entry.ts";
import {
  type CdcClientLike,
  type CrdtClientLike,
  disposeQuietly,
  dropQuietly,
  type IndexClientLike,
  inThread,
  type PluginInstance,
} from "./resources/clients.ts";
import { LiveIndex, sharedOf } from "./resources/index.ts";
import type { ComponentModule } from "./component/module.ts";
import { WorkerInstance } from "./worker/instance.ts";
import type { WorkerDeath, WorkerFactory, WorkerResourceLimits } from "./worker/types.ts";
import { LogicalType } from "./resources/logical-type.ts";
import { type PluginSource, type ReadFile, readSource } from "./sources.ts";
import { HostDurability } from "./durable/durability.ts";
import { CdcLog, CrdtLog, IndexLog } from "./durable/logs.ts";
import type { PluginRecord, ResourceRecord } from "./durable/records.ts";
import { type RestoreReport, type RestoreTarget, restore } from "./durable/restore.ts";
import type { Mutation, StateStore } from "./store/types.ts";

export interface HostOptions {
  /** Capabilities the host grants (effective = declared ∩ granted). Default: all. */
  grants?: readonly Capability[];
  /** Ceiling on any plugin's linear memory, in 64 KiB pages; always wins over the plugin's ask. Default 16384 (1 GiB). */
  memoryPagesCeiling?: number;
  /** How long a reload waits for in-flight calls and leases before it aborts (old keeps serving). Default 5000 ms. */
  drainTimeoutMs?: number;
  /** Reads plugin files by path; supplied by the Node/Deno adapters. */
  readFile?: ReadFile;
  /** Receives `host-log` output. Default: warnings and errors to the console. */
  onLog?: (entry: { pluginId: string; level: LogLevel; message: string }) => void;
  /** Caps on each plugin's `host-log` output (size per message, messages and bytes per second); excess is counted. */
  logLimits?: LogLimits;
  /**
   * Longest logical-type literal the host passes to a plugin, in UTF-8 bytes (default 4096). Longer literals are
   * refused before the plugin sees them, and never become reload samples.
   */
  maxLiteralBytes?: number;
  /**
   * Keeps plugin state across restarts: `fileStore(dir)` (Node), `openDenoKvStore()` (Deno), `indexedDbStore(name)`
   * (browsers), `memoryStore()`. A host created with a store restores everything it holds (see `restored`).
   */
  store?: StateStore;
  /** With a store: `"journal"` (default; writes resolve once durable) or `"snapshot"` (background writes). */
  durability?: "journal" | "snapshot";
  /** With a store: keeps this host's records apart from other hosts sharing it. Default `"host"`. */
  namespace?: string;
  /** With a store: a CRDT state's journal is folded into a new snapshot after this many ops. Default 1000. */
  snapshotEveryOps?: number;
  /** With `durability: "snapshot"`: how often changed state is written. Default 1000 ms. */
  snapshotIntervalMs?: number;
  /**
   * Where plugin instances run unless `load` says otherwise: `"thread"` (default; the host's own thread, fastest,
   * for small trusted plugins) or `"worker"` (a worker of their own: calls have deadlines, a runaway is ended and
   * the plugin restored with its state, and a reload opens the new version without pausing the host's thread).
   */
  isolation?: Isolation;
  /** Worker-hosted plugins: the default deadline of every call, ms. Default 10 000. */
  callTimeoutMs?: number;
  /**
   * Worker-hosted plugins: the deadline of each call vetting makes at load (its manifest, its surface listings),
   * ms. Default 30 000. Starting the worker itself gets at least 30 s (runtime start-up, not plugin code).
   */
  loadTimeoutMs?: number;
  /** Creates the workers (Node: `createNodeHost` supplies one over `worker_threads`). Default: a module Web `Worker`. */
  workerFactory?: WorkerFactory;
  /** Caps on each worker's JavaScript heap (honoured by Node's `worker_threads` only). */
  workerResourceLimits?: WorkerResourceLimits;
}

export interface LoadOptions {
  /** Narrows the host's grants for this plugin. */
  grants?: readonly Capability[];
  /** Where this plugin's instance runs; default the host's `isolation`. */
  isolation?: Isolation;
}

/** What `plugins()` reports per installed plugin. */
export interface PluginInfo extends PluginHandle {
  manifest: Manifest;
  capabilities: Capability[];
  /** Registry keys held, per surface. */
  registered: Record<Surface, string[]>;
  /** SHA-256 of the component bytes. */
  hash: string;
  /** Live resources served by this plugin. */
  resources: { surface: string; name: string; key: string }[];
  /** What became of its `host-log` output under the host's caps. */
  log: LogStats;
  /** Where its instance runs. */
  isolation: Isolation;
}

/** Holds a plugin version in use across awaits; a reload drains leases before it hands over. */
export interface Lease {
  readonly plugin: PluginHandle;
  release(): void;
  [Symbol.dispose](): void;
}

type Named<T> = Map<string, T>;

export class PluginHost {
  /** @internal the installed plugins by id: what serves, its gate, its live resources */
  readonly entries = new Map<string, PluginEntry>();
  readonly #registry = new Registry<PluginVersion>();
  readonly #options: Pick<
    Required<HostOptions>,
    "grants" | "memoryPagesCeiling" | "drainTimeoutMs" | "maxLiteralBytes" | "callTimeoutMs" | "loadTimeoutMs"
  > &
    HostOptions;
  /** The host's store and what it writes (durable hosts only). */
  readonly #durable: HostDurability | undefined;
  /**
   * Resolves once a durable host has restored what its store holds (at once without a store), with what came
   * back and what was quarantined. Calls that change state wait for it; lookups (`index(name)`, `plugins()`)
   * see restored state only after it.
   */
  readonly restored: Promise<RestoreReport>;
  /** Literals seen per logical type: the samples a reload checks the new version on. */
  readonly #typeSamples = new Map<string, Set<string>>();
  readonly #generations = new Map<string, number>();
  readonly #samplesDirty = new Set<string>();
  readonly #workerLogStats = new WeakMap<WorkerInstance, LogStats>();
  /** Names being created right now, per surface (a create may wait for a worker). */
  readonly #creating = new Set<string>();
  readonly #indexes: Named<LiveIndex> = new Map();
  readonly #crdts: Named<LiveCrdt> = new Map();
  readonly #streams: Named<LiveCdc> = new Map();
  /** What a reload may touch of this host, and nothing more (reload.ts does not import this file). */
  readonly #reloadHost: ReloadHost;
  #disposed = false;

  constructor(options: HostOptions = {}) {
    this.#options = {
      grants: options.grants ?? CAPABILITIES,
      memoryPagesCeiling: options.memoryPagesCeiling ?? DEFAULT_MEMORY_PAGES_CEILING,
      drainTimeoutMs: options.drainTimeoutMs ?? 5000,
      maxLiteralBytes: options.maxLiteralBytes ?? 4096,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      loadTimeoutMs: options.loadTimeoutMs ?? 30_000,
      ...options,
    };
    this.#reloadHost = {
      entryFor: (handle) => this.#entryFor(handle),
      vet: (source, grants, isolation) => this.#vet(source, grants, isolation),
      checkRegistry: (old, next) => this.#registry.check(old, next),
      swapRegistry: (old, next) => this.#registry.replace(old, next),
      commitVersion: (_old, next, writes) => this.#commitVersion(next, writes),
      drainTimeoutMs: this.#options.drainTimeoutMs,
      samples: (name) => [...(this.#typeSamples.get(name) ?? [])],
    };
    this.#durable = options.store
      ? new HostDurability({
          store: options.store,
          ...(options.durability ? { durability: options.durability } : {}),
          ...(options.namespace ? { namespace: options.namespace } : {}),
          ...(options.snapshotEveryOps ? { snapshotEveryOps: options.snapshotEveryOps } : {}),
          ...(options.snapshotIntervalMs ? { snapshotIntervalMs: options.snapshotIntervalMs } : {}),
        })
      : undefined;
    this.restored = this.#durable
      ? restore(this.#durable, this.#restoreTarget())
      : Promise.resolve({ plugins: [], resources: [], quarantined: [], ms: 0 });
    // Nothing waits on a failed restore but the calls that need it; keep its rejection from going unhandled.
    this.restored.catch(() => {});
  }

  /** What the restore may do to this host (src/durable/restore.ts). */
  #restoreTarget(): RestoreTarget {
    const d = this.#durable as HostDurability;
    return {
      install: async (record, bytes) => this.#install(record, bytes),
      generationAtLeast: (id, g) => this.#generations.set(id, Math.max(this.#generations.get(id) ?? 0, g)),
      samples: (type, literals) => {
        const set = this.#typeSamples.get(type) ?? new Set<string>();
        for (const l of literals) set.add(l);
        this.#typeSamples.set(type, set);
      },
      restoreIndex: async (record, snapshot) => {
        const entry = this.#entryProviding("index", record.key);
        this.#claim(this.#indexes, "index", record.name);
        const instance = entry.current.instance;
        const handle = await indexOf(instance).open(record.key, snapshot);
        const idx = new LiveIndex(entry, record.name, record.key, handle, this.#forget);
        this.#indexes.set(record.name, idx);
        idx.shared = await sharedOf(instance, handle);
        idx.log = new IndexLog(d, record.name, entry.current.manifest.id, record.version, record.key, record.options);
      },
      restoreCrdt: async (record, snapshot, journal, epoch) => {
        const entry = this.#entryProviding("crdt", record.key);
        this.#claim(this.#crdts, "crdt", record.name);
        const instance = entry.current.instance;
        const state = await crdtOf(instance).fromPersisted(record.key, snapshot);
        try {
          for (const e of journal) await state[e.op](e.bytes);
        } catch (err) {
          dropQuietly(state);
          throw err;
        }
        const live = new LiveCrdt(entry, record.name, record.key, state, this.#forget);
        this.#crdts.set(record.name, live);
        await this.#keepForRecovery(live);
        // The replayed journal is folded into a snapshot of the next epoch right away.
        await this.#crdtLog(live, d, epoch).restored(await state.persist());
      },
      restoreCdc: async (record, state, stored) => {
        const entry = this.#entryProviding("cdc", record.key);
        this.#claim(this.#streams, "cdc stream", record.name);
        const options = cdcOptionsOf(record);
        const stream = await cdcOf(entry.current.instance).start(record.key, state.emittedEnd);
        const live = new LiveCdc(
          entry,
          record.name,
          record.key,
          stream,
          { ...options, restore: state, fromLsn: state.emittedEnd },
          this.#forget,
        );
        this.#streams.set(record.name, live);
        await live.opened(); // the output gets every logged batch it had not emitted
        await this.#cdcLog(live, d, options, stored);
      },
    };
  }

  /** Restores a version from the store: vetted like a load, serving at the generation it had. */
  async #install(record: PluginRecord, bytes: Uint8Array): Promise<void> {
    const version = await this.#vet(bytes, record.grants as Capability[] | undefined, record.isolation ?? "thread");
    try {
      if (version.manifest.id !== record.id || version.manifest.version !== record.version) {
        throw new PluginError(
          ErrorCode.Corrupt,
          `the stored component is ${version.manifest.id}@${version.manifest.version}, not ${record.id}@${record.version}`,
        );
      }
      if (this.entries.has(record.id)) throw new RegistryError(ErrorCode.DuplicateKey, `plugin ${record.id} twice`);
      this.#registry.add(version);
    } catch (err) {
      disposeQuietly(version.instance);
      throw err;
    }
    stamp(version, record.generation);
    this.entries.set(record.id, { current: version, gate: new Gate(), resources: new Set(), reloading: false });
  }

  /**
   * Waits until everything written so far is in the store (journal durability: already; snapshot durability:
   * writes the changes since the last tick now).
   */
  async flush(): Promise<void> {
    await this.#ready();
    await this.#durable?.flushChanged();
  }

  /**
   * A worker-hosted instance died — a call ran past its deadline and its worker was ended, or the worker crashed.
   * If it was serving a plugin, that plugin is restored in a fresh worker with its live state: indexes from their
   * shared snapshots, CRDT states from snapshot plus the ops since, CDC streams from the host's log (every LSN
   * once). Calls arriving meanwhile queue. If the restore fails too, the plugin stays poisoned, with why.
   */
  #died(instance: WorkerInstance, death: WorkerDeath): void {
    const entry = [...this.entries.values()].find((e) => e.current.instance === instance);
    if (!entry || this.#disposed) return; // a version being reloaded in, or already replaced: nothing serves from it
    this.#log(
      entry.current.handle.id,
      "error",
      `worker ended (${death.reason} in ${death.what}): ${death.error.message}; restoring`,
    );
    // From now on calls wait for the restore (set synchronously: no call may reach the dead instance meanwhile).
    const recovering = this.#recover(entry, instance).finally(() => {
      if (entry.recovering === recovering) entry.recovering = undefined;
    });
    entry.recovering = recovering;
  }

  async #recover(entry: PluginEntry, dead: WorkerInstance): Promise<void> {
    // A reload that was running rolls back first (the dead instance fails its step); then this restores.
    while (entry.reloading) await new Promise((r) => setTimeout(r, 5));
    if (entry.current.instance !== dead || this.#disposed) return;
    entry.reloading = true; // no reload while the plugin is rebuilt
    entry.gate.close();
    const old = entry.current;
    let fresh: WorkerInstance | undefined;
    const pending = new Map<LiveResource, unknown>();
    try {
      await entry.gate.drain(this.#options.drainTimeoutMs);
      fresh = await this.#spawn(old.module, old.capabilities, {
        pluginId: () => old.handle.id,
        log: (level, message) => this.#log(old.handle.id, level, message),
        ...(this.#options.logLimits ? { logLimits: this.#options.logLimits } : {}),
      });
      fresh.pluginId = old.handle.id;
      const next: PluginVersion = { ...old, instance: fresh };
      for (const r of [...entry.resources]) pending.set(r, await r.recover(next));
      entry.current = next;
      this.#registry.replace(old, next);
      for (const [r, p] of pending) r.commit(p);
      this.#log(old.handle.id, "warn", `restored in a fresh worker with ${pending.size} live resource(s)`);
    } catch (err) {
      for (const [r, p] of pending) r.abort(p);
      if (fresh) void fresh.dispose().catch(() => {});
      this.#log(old.handle.id, "error", `could not be restored: ${toPluginError(err).message}; it stays poisoned`);
    } finally {
      entry.reloading = false;
      entry.gate.open();
    }
  }

  /** Waits for the restore of a durable host (a no-op otherwise). */
  async #ready(): Promise<void> {
    if (this.#durable) await this.restored;
  }

  /**
   * Makes `version` the serving version of its id in the store (durable hosts), with `writes` in the same atomic
   * commit, and resolves its generation: strictly increasing, never reused — after an unload, a restart, or by
   * another host sharing the store and namespace.
   */
  async #commitVersion(version: PluginVersion, writes: readonly Mutation[] = []): Promise<number> {
    const id = version.handle.id;
    const current = this.#generations.get(id) ?? 0;
    const generation = this.#durable
      ? await this.#durable.commitVersion(
          {
            id,
            version: version.manifest.version,
            hash: version.module.hash,
            ...(version.asked ? { grants: [...version.asked] } : {}),
            ...(version.isolation === "worker" ? { isolation: "worker" as const } : {}),
          },
          version.bytes,
          current,
          writes,
        )
      : current + 1;
    this.#generations.set(id, Math.max(this.#generations.get(id) ?? 0, generation));
    return generation;
  }

  /** Compiles, instantiates and vets a version without registering it. */
  async #vet(source: PluginSource, grants?: readonly Capability[], isolation?: Isolation): Promise<PluginVersion> {
    this.#assertLive();
    const bytes = await readSource(source, this.#options.readFile);
    const hostGrants = new Set(this.#options.grants);
    const granted = grants ? new Set(grants.filter((g) => hostGrants.has(g))) : hostGrants;
    return await vetPlugin(bytes, {
      isolation: isolation ?? this.#options.isolation ?? "thread",
      spawn: (module, spawnOptions) => this.#spawn(module, granted, spawnOptions),
      timeoutMs: this.#options.loadTimeoutMs,
      grants: granted,
      ...(grants ? { asked: grants } : {}),
      memoryPagesCeiling: this.#options.memoryPagesCeiling,
      ...(this.#options.logLimits ? { logLimits: this.#options.logLimits } : {}),
      log: (pluginId, level, message) => this.#log(pluginId, level, message),
    });
  }

  /** Starts a worker-hosted instance; its death (a deadline, a crash) restores its plugin (see {@link #died}). */
  async #spawn(
    module: ComponentModule,
    grants: ReadonlySet<Capability>,
    options: Parameters<SpawnWorker>[1],
  ): Promise<WorkerInstance> {
    const o = this.#options;
    if (!o.workerFactory && typeof Worker !== "function") {
      throw new LoadError(
        ErrorCode.InvalidComponent,
        `plugin ${options.pluginId()}: worker isolation needs workers, and this runtime has no Web Worker; give the ` +
          "host a workerFactory (in Node, createNodeHost() supplies one over worker_threads)",
      );
    }
    const factory = o.workerFactory;
    let instance: WorkerInstance | undefined;
    instance = await WorkerInstance.spawn(
      module,
      {
        pluginId: options.pluginId(),
        grants: new Set<string>([...grants, "host-log", "cdc-sink"]),
        log: options.log,
        ...(options.logLimits ? { logLimits: options.logLimits } : {}),
        timeoutMs: o.callTimeoutMs,
        memoryPagesCeiling: module.memoryPagesCeiling,
        ...(factory ? { workerFactory: factory } : {}),
        ...(o.workerResourceLimits ? { resourceLimits: o.workerResourceLimits } : {}),
        onDeath: (death) => this.#died(instance as WorkerInstance, death),
      },
      // Starting a worker is the runtime's work, not the plugin's (a cold start loads the runtime's modules; Deno
      // may type-check them): it gets at least 30 s. The plugin's own code at load — its manifest, its listings —
      // runs under loadTimeoutMs.
      { timeoutMs: Math.max(o.loadTimeoutMs, 30_000) },
    );
    return instance;
  }

  #log(pluginId: string, level: LogLevel, message: string): void {
    if (this.#options.onLog) this.#options.onLog({ pluginId, level, message });
    else if (level === "warn" || level === "error") console[level](`[${pluginId}] ${message}`);
  }

  /**
   * Loads a plugin component: from bytes, a URL, a `Response`, or a file path
   * (with a runtime adapter). Everything it provides is registered, or nothing is.
   */
  async load(source: PluginSource, options: LoadOptions = {}): Promise<PluginHandle> {
    await this.#ready();
    const version = await this.#vet(source, options.grants, options.isolation);
    const id = version.handle.id;
    try {
      if (this.entries.has(id)) {
        const cur = (this.entries.get(id) as PluginEntry).current.handle;
        throw new RegistryError(
          ErrorCode.DuplicateKey,
          `plugin ${id} is already loaded (version ${cur.version}, generation ${cur.generation}); use reload() to replace it`,
          { pluginId: id },
        );
      }
      this.#registry.add(version);
    } catch (err) {
      disposeQuietly(version.instance);
      throw err;
    }
    let generation: number;
    try {
      generation = await this.#commitVersion(version); // durable hosts: in the store before it serves
    } catch (err) {
      this.#registry.remove(version);
      disposeQuietly(version.instance);
      throw err;
    }
    stamp(version, generation);
    this.entries.set(id, { current: version, gate: new Gate(), resources: new Set(), reloading: false });
    return version.handle;
  }

  /** The entry for a handle that must be current. */
  #entryFor(handle: PluginHandle): PluginEntry {
    const entry = this.entries.get(handle.id);
    if (!entry) {
      throw new RegistryError(ErrorCode.NotFound, `plugin ${handle.id} is not loaded`, { pluginId: handle.id });
    }
    if (entry.current.handle.generation !== handle.generation) {
      throw new RegistryError(
        ErrorCode.StaleHandle,
        `stale handle for ${handle.id}: generation ${handle.generation}, but generation ` +
          `${entry.current.handle.generation} (version ${entry.current.handle.version}) is installed`,
        { pluginId: handle.id },
      );
    }
    return entry;
  }

  /**
   * Unloads a plugin. Refused while live resources use it unless `force`, which
   * drops them (their state is gone: persist first if you need it).
   */
  async unload(handle: PluginHandle, options: { force?: boolean } = {}): Promise<void> {
    await this.#ready();
    const entry = this.#entryFor(handle);
    if (entry.reloading) {
      throw new RegistryError(ErrorCode.Reload, `plugin ${handle.id} is being reloaded`, { pluginId: handle.id });
    }
    if (entry.resources.size && !options.force) {
      const names = [...entry.resources].map((r) => `${r.surface} "${r.name}"`).join(", ");
      throw new RegistryError(
        ErrorCode.Forbidden,
        `plugin ${handle.id} still serves ${names}; drop them first or unload with { force: true }`,
        { pluginId: handle.id },
      );
    }
    const resources = [...entry.resources];
    if (this.#durable) {
      // Its record and its resources' records go in one commit: a restart never finds half an unload.
      const logs = resources.map((r) => r.log).filter((l) => l !== undefined);
      const removals = await Promise.all(logs.map((l) => l.removal()));
      await this.#durable.removePlugin(handle.id, removals);
      for (const l of logs) l.sweep().catch((err: unknown) => this.#durable?.background(err));
    }
    for (const r of resources) r.dropNow();
    this.#registry.remove(entry.current);
    this.entries.delete(handle.id);
    disposeQuietly(entry.current.instance);
  }

  /** Installed plugins with their effective capabilities and registrations. */
  plugins(): PluginInfo[] {
    return [...this.entries.values()].map(({ current, resources }) => ({
      ...current.handle,
      manifest: current.manifest,
      capabilities: [...current.capabilities],
      registered: this.#registry.footprint(current),
      hash: current.module.hash,
      resources: [...resources].map((r) => ({ surface: r.surface, name: r.name, key: r.key })),
      log: this.#logStatsOf(current.instance),
      isolation: current.isolation,
    }));
  }

  /**
   * What became of an instance's host-log output. A worker-hosted instance counts in its worker: the figure is the
   * last one it reported (refreshed in the background each time it is asked for).
   */
  #logStatsOf(instance: PluginInstance): LogStats {
    if (inThread(instance)) return instance.logStats;
    instance
      .logStats({ timeoutMs: 1000 })
      .then((stats) => this.#workerLogStats.set(instance, stats))
      .catch(() => {});
    return this.#workerLogStats.get(instance) ?? { delivered: 0, dropped: 0, droppedBytes: 0, truncated: 0 };
  }

  /** The handle of the plugin providing `key` on `surface`, if any. */
  provider(surface: Surface, key: string): PluginHandle | undefined {
    return this.#registry.lookup(surface, key)?.handle;
  }

  #entryProviding(surface: Surface, key: string): PluginEntry {
    this.#assertLive();
    const version = this.#registry.lookup(surface, key);
    if (!version) {
      const known = this.#registry.keys(surface);
      throw new RegistryError(
        ErrorCode.NotFound,
        `no plugin provides ${surface} "${key}"${known.length ? ` (registered: ${known.join(", ")})` : ""}`,
      );
    }
    return this.entries.get(version.handle.id) as PluginEntry;
  }

  #claim<T>(table: Named<T>, surface: string, name: string): void {
    if (table.has(name) || this.#creating.has(`${surface}\u0000${name}`)) {
      throw new RegistryError(ErrorCode.DuplicateKey, `a live ${surface} named "${name}" already exists`);
    }
  }

  #forget = (r: LiveResource): void => {
    const table = r.surface === "index" ? this.#indexes : r.surface === "crdt" ? this.#crdts : this.#streams;
    if (table.get(r.name) === r) table.delete(r.name);
  };

  /**
   * Creates a named live resource through its plugin's gate. The name is claimed and recorded inside the gated
   * call, so two concurrent creates of one name cannot both succeed, and a create queued behind a reload runs
   * on the version serving after it. On a durable host, `persist` writes its first records; the create resolves
   * once they are durable (journal durability), and is undone if they cannot be written.
   */
  async #create<T extends LiveResource>(
    table: Named<T>,
    what: string,
    name: string,
    surface: Surface,
    key: string,
    make: (entry: PluginEntry) => T | Promise<T>,
    persist?: (resource: T, d: HostDurability) => Promise<void> | undefined,
  ): Promise<T> {
    await this.#ready();
    this.#claim(table, what, name);
    const entry = this.#entryProviding(surface, key);
    return await through(entry, async () => {
      this.#claim(table, what, name);
      const claim = `${what}\u0000${name}`;
      this.#creating.add(claim); // held while a worker-hosted plugin builds it: a second create of the name waits out
      let resource: T;
      try {
        resource = await make(entry);
      } finally {
        this.#creating.delete(claim);
      }
      table.set(name, resource);
      try {
        if (this.#durable && persist) await persist(resource, this.#durable);
      } catch (err) {
        resource.dropNow(); // not recorded, so not created: the name is free again
        throw err;
      }
      return resource;
    });
  }

  /** Builds a live index of `kind` over Arrow data (`id: Int64` + vectors for `vector.flat`). */
  async createIndex(name: string, kind: string, source: ArrowInput, options: object = {}): Promise<LiveIndex> {
    checkName(name, "createIndex");
    checkKey(kind, "createIndex kind");
    const json = optionsJson(options, `createIndex "${name}"`);
    const bytes = ipcOf(source);
    return this.#create(
      this.#indexes,
      "index",
      name,
      "index",
      kind,
      async (entry) => {
        const instance = entry.current.instance;
        const handle = await indexOf(instance).build(kind, bytes, json);
        const idx = new LiveIndex(entry, name, kind, handle, this.#forget);
        idx.shared = await sharedOf(instance, handle).catch((err) => {
          idx.dropNow();
          throw err;
        });
        return idx;
      },
      async (idx, d) => this.#indexLog(idx, d, json).created(idx.shared ?? (await idx.handle.persist())),
    );
  }

  /** Reopens a live index from persisted bytes (e.g. after a restart). */
  async openIndex(name: string, kind: string, persisted: Uint8Array): Promise<LiveIndex> {
    checkName(name, "openIndex");
    checkKey(kind, "openIndex kind");
    checkBytes(persisted, `openIndex "${name}" persisted`);
    return this.#create(
      this.#indexes,
      "index",
      name,
      "index",
      kind,
      async (entry) => {
        const instance = entry.current.instance;
        const handle = await indexOf(instance).open(kind, persisted);
        const idx = new LiveIndex(entry, name, kind, handle, this.#forget);
        if (!inThread(instance)) idx.shared = persisted.slice(); // the bytes it was opened from: a snapshot as good
        return idx;
      },
      (idx, d) => this.#indexLog(idx, d).created(persisted),
    );
  }

  /** A worker-hosted CRDT state keeps a shared snapshot to be restored from (see LiveCrdt.recovery). */
  async #keepForRecovery(live: LiveCrdt): Promise<void> {
    const snapshot = await sharedState(live.state, live.entry.current.instance).catch((err) => {
      live.dropNow();
      throw err;
    });
    if (snapshot) live.recovery = { snapshot, ops: [] };
  }

  #indexLog(idx: LiveIndex, d: HostDurability, options?: string): IndexLog {
    const v = idx.entry.current.manifest;
    idx.log = new IndexLog(d, idx.name, v.id, v.version, idx.kind, options);
    return idx.log;
  }

  #crdtLog(state: LiveCrdt, d: HostDurability, epoch: number): CrdtLog {
    const v = state.entry.current.manifest;
    const log = new CrdtLog(d, state.name, v.id, v.version, state.kind);
    log.start(epoch, () => state.state.persist());
    state.log = log;
    return log;
  }

  #cdcLog(stream: LiveCdc, d: HostDurability, options: CdcOptions, stored?: { start: bigint; end: bigint }[]) {
    const v = stream.entry.current.manifest;
    const { fromLsn: _from, restore: _restore, ...kept } = options;
    stream.log = new CdcLog(d, stream.name, v.id, v.version, stream.output, JSON.stringify(kept));
    return stream.log.start(
      () => stream.positions(),
      stored,
      () => stream.durableMoved(),
    );
  }

  index(name: string): LiveIndex | undefined {
    return this.#indexes.get(name);
  }

  /** Creates a live CRDT state of `kind`: empty, or from persisted bytes. */
  async createCrdt(name: string, kind: string, persisted?: Uint8Array): Promise<LiveCrdt> {
    checkName(name, "createCrdt");
    checkKey(kind, "createCrdt kind");
    if (persisted !== undefined) checkBytes(persisted, `createCrdt "${name}" persisted`);
    return this.#create(
      this.#crdts,
      "crdt",
      name,
      "crdt",
      kind,
      async (entry) => {
        const crdt = crdtOf(entry.current.instance);
        const state = persisted ? await crdt.fromPersisted(kind, persisted) : await crdt.empty(kind);
        const live = new LiveCrdt(entry, name, kind, state, this.#forget);
        await this.#keepForRecovery(live);
        return live;
      },
      async (state, d) => this.#crdtLog(state, d, 0).created(await state.state.persist()),
    );
  }

  crdt(name: string): LiveCrdt | undefined {
    return this.#crdts.get(name);
  }

  /** Starts CDC output `output` as live stream `name`, resuming at `options.fromLsn` (inclusive). */
  async attachCdc(name: string, output: string, options: CdcOptions = {}): Promise<LiveCdc> {
    checkName(name, "attachCdc");
    checkKey(output, "attachCdc output");
    if (options.fromLsn !== undefined) checkLsn(options.fromLsn, `attachCdc "${name}" fromLsn`);
    if (options.checkpointEvery !== undefined)
      checkCount(options.checkpointEvery, `attachCdc "${name}" checkpointEvery`);
    return this.#create(
      this.#streams,
      "cdc stream",
      name,
      "cdc",
      output,
      async (entry) => {
        const stream = await cdcOf(entry.current.instance).start(output, options.fromLsn);
        const live = new LiveCdc(entry, name, output, stream, options, this.#forget);
        await live.opened(); // a restored record: the output gets what it had not emitted
        return live;
      },
      (stream, d) => this.#cdcLog(stream, d, options),
    );
  }

  cdc(name: string): LiveCdc | undefined {
    return this.#streams.get(name);
  }

  /** A logical type by name, e.g. `geo.point`; calls go to whichever version is serving. */
  logicalType(name: string): LogicalType {
    this.#entryProviding("logical-type", name);
    const samples = this.#typeSamples.get(name) ?? new Set<string>();
    this.#typeSamples.set(name, samples);
    return new LogicalType(
      name,
      () => this.#entryProviding("logical-type", name),
      samples,
      this.#options.maxLiteralBytes,
      () => this.#samplesChanged(name),
    );
  }

  /** A durable host writes a type's samples when they change (once per turn, however many calls added some). */
  #samplesChanged(name: string): void {
    const d = this.#durable;
    if (!d || this.#samplesDirty.has(name)) return;
    this.#samplesDirty.add(name);
    queueMicrotask(() => {
      this.#samplesDirty.delete(name);
      d.writeSamples(name, [...(this.#typeSamples.get(name) ?? [])]).catch((err) => d.background(err));
    });
  }

  /** Holds `handle`'s plugin in use across awaits; a reload waits (up to its drain timeout) for the release. */
  async lease(handle: PluginHandle): Promise<Lease> {
    await this.#ready();
    const entry = this.#entryFor(handle);
    while (entry.recovering) await entry.recovering; // a lease taken mid-restore would hold a version still restoring
    const wait = entry.gate.enter();
    if (wait) await wait;
    let held = true;
    const release = () => {
      if (held) {
        held = false;
        entry.gate.exit();
      }
    };
    return { plugin: entry.current.handle, release, [Symbol.dispose]: release };
  }

  /**
   * Replaces a plugin with a new version, handing live state over; see
   * src/reload.ts for the steps. Resolves with a report; rejects with a
   * `ReloadError` (carrying the report) after rolling back — the old version
   * then keeps serving exactly as before.
   */
  async reload(handle: PluginHandle, source: PluginSource, options: ReloadOptions = {}): Promise<ReloadReport> {
    await this.#ready();
    return runReload(this.#reloadHost, handle, source, options);
  }

  /** Drops every live resource and plugin. */
  dispose(): void {
    if (this.#disposed) return;
    for (const entry of this.entries.values()) {
      for (const r of [...entry.resources]) r.dropNow();
      disposeQuietly(entry.current.instance);
    }
    this.entries.clear();
    this.#disposed = true;
    void this.#durable?.close().catch(() => {}); // stops the snapshot timer; what is queued still goes out
  }

  #assertLive(): void {
    if (this.#disposed) throw new PluginError(ErrorCode.Disposed, "this PluginHost was disposed");
  }
}

/** The options a stream was attached with, as its record keeps them. */
function cdcOptionsOf(record: ResourceRecord): CdcOptions {
  if (!record.options) return {};
  const parsed = JSON.parse(record.options) as CdcOptions;
  return typeof parsed === "object" && parsed !== null ? parsed : {};
}

/** A registered key's surface client; vetting guarantees the interface exists for every registered key. */
function serving<T>(client: T | undefined, surface: Surface): T {
  if (!client) throw new Error(`unreachable: a registered ${surface} key without the uni:plugin/${surface} export`);
  return client;
}

/** The surface clients of an instance wherever it runs (results awaited: in-thread ones resolve at once). */
const indexOf = (i: PluginInstance) => serving(i.index as IndexClientLike | undefined, "index");
const crdtOf = (i: PluginInstance) => serving(i.crdt as CrdtClientLike | undefined, "crdt");
const cdcOf = (i: PluginInstance) => serving(i.cdc as CdcClientLike | undefined, "cdc");
