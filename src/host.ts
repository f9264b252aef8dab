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
import { ErrorCode, PluginError, RegistryError } from "./errors.ts";
import { Gate } from "./gate.ts";
import { checkBytes, checkCount, checkKey, checkLsn, checkName, optionsJson } from "./input.ts";
import { CAPABILITIES, type Capability, type Manifest, type Surface } from "./manifest.ts";
import { type PluginHandle, type PluginVersion, stamp, vetPlugin } from "./plugin.ts";
import { Registry } from "./registry.ts";
import { type ReloadHost, type ReloadOptions, type ReloadReport, reload as runReload } from "./reload.ts";
import { type CdcOptions, LiveCdc } from "./resources/cdc.ts";
import { LiveCrdt } from "./resources/crdt.ts";
import { type LiveResource, type PluginEntry, through } from "./resources/entry.ts";
import { LiveIndex } from "./resources/index.ts";
import { LogicalType } from "./resources/logical-type.ts";
import { type PluginSource, type ReadFile, readSource } from "./sources.ts";

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
}

export interface LoadOptions {
  /** Narrows the host's grants for this plugin. */
  grants?: readonly Capability[];
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
  readonly #options: Required<Omit<HostOptions, "readFile" | "onLog" | "logLimits">> & HostOptions;
  /** Literals seen per logical type: the samples a reload checks the new version on. */
  readonly #typeSamples = new Map<string, Set<string>>();
  readonly #generations = new Map<string, number>();
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
      ...options,
    };
    this.#reloadHost = {
      entryFor: (handle) => this.#entryFor(handle),
      vet: (source, grants) => this.#vet(source, grants),
      checkRegistry: (old, next) => this.#registry.check(old, next),
      swapRegistry: (old, next) => this.#registry.replace(old, next),
      nextGeneration: (id) => this.#nextGeneration(id),
      drainTimeoutMs: this.#options.drainTimeoutMs,
      samples: (name) => [...(this.#typeSamples.get(name) ?? [])],
    };
  }

  /** The next generation for `id`: strictly increasing, never reused, even after unload. */
  #nextGeneration(id: string): number {
    const g = (this.#generations.get(id) ?? 0) + 1;
    this.#generations.set(id, g);
    return g;
  }

  /** Compiles, instantiates and vets a version without registering it. */
  async #vet(source: PluginSource, grants?: readonly Capability[]): Promise<PluginVersion> {
    this.#assertLive();
    const bytes = await readSource(source, this.#options.readFile);
    const hostGrants = new Set(this.#options.grants);
    const granted = grants ? new Set(grants.filter((g) => hostGrants.has(g))) : hostGrants;
    return await vetPlugin(bytes, {
      grants: granted,
      memoryPagesCeiling: this.#options.memoryPagesCeiling,
      ...(this.#options.logLimits ? { logLimits: this.#options.logLimits } : {}),
      log: (pluginId, level, message) => this.#log(pluginId, level, message),
    });
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
    const version = await this.#vet(source, options.grants);
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
      version.instance.dispose();
      throw err;
    }
    stamp(version, this.#nextGeneration(id));
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
    for (const r of [...entry.resources]) r.dropNow();
    this.#registry.remove(entry.current);
    this.entries.delete(handle.id);
    entry.current.instance.dispose();
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
      log: current.instance.logStats,
    }));
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
    if (table.has(name)) {
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
   * on the version serving after it.
   */
  async #create<T extends LiveResource>(
    table: Named<T>,
    what: string,
    name: string,
    surface: Surface,
    key: string,
    make: (entry: PluginEntry) => T,
  ): Promise<T> {
    this.#claim(table, what, name);
    const entry = this.#entryProviding(surface, key);
    return await through(entry, () => {
      this.#claim(table, what, name);
      const resource = make(entry);
      table.set(name, resource);
      return resource;
    });
  }

  /** Builds a live index of `kind` over Arrow data (`id: Int64` + vectors for `vector.flat`). */
  async createIndex(name: string, kind: string, source: ArrowInput, options: object = {}): Promise<LiveIndex> {
    checkName(name, "createIndex");
    checkKey(kind, "createIndex kind");
    const json = optionsJson(options, `createIndex "${name}"`);
    const bytes = ipcOf(source);
    return this.#create(this.#indexes, "index", name, "index", kind, (entry) => {
      const handle = serving(entry.current.instance.index, "index").build(kind, bytes, json);
      return new LiveIndex(entry, name, kind, handle, this.#forget);
    });
  }

  /** Reopens a live index from persisted bytes (e.g. after a restart). */
  async openIndex(name: string, kind: string, persisted: Uint8Array): Promise<LiveIndex> {
    checkName(name, "openIndex");
    checkKey(kind, "openIndex kind");
    checkBytes(persisted, `openIndex "${name}" persisted`);
    return this.#create(this.#indexes, "index", name, "index", kind, (entry) => {
      const handle = serving(entry.current.instance.index, "index").open(kind, persisted);
      return new LiveIndex(entry, name, kind, handle, this.#forget);
    });
  }

  index(name: string): LiveIndex | undefined {
    return this.#indexes.get(name);
  }

  /** Creates a live CRDT state of `kind`: empty, or from persisted bytes. */
  async createCrdt(name: string, kind: string, persisted?: Uint8Array): Promise<LiveCrdt> {
    checkName(name, "createCrdt");
    checkKey(kind, "createCrdt kind");
    if (persisted !== undefined) checkBytes(persisted, `createCrdt "${name}" persisted`);
    return this.#create(this.#crdts, "crdt", name, "crdt", kind, (entry) => {
      const crdt = serving(entry.current.instance.crdt, "crdt");
      const state = persisted ? crdt.fromPersisted(kind, persisted) : crdt.empty(kind);
      return new LiveCrdt(entry, name, kind, state, this.#forget);
    });
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
    return this.#create(this.#streams, "cdc stream", name, "cdc", output, (entry) => {
      const stream = serving(entry.current.instance.cdc, "cdc").start(output, options.fromLsn);
      return new LiveCdc(entry, name, output, stream, options, this.#forget);
    });
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
    );
  }

  /** Holds `handle`'s plugin in use across awaits; a reload waits (up to its drain timeout) for the release. */
  async lease(handle: PluginHandle): Promise<Lease> {
    const entry = this.#entryFor(handle);
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
  reload(handle: PluginHandle, source: PluginSource, options: ReloadOptions = {}): Promise<ReloadReport> {
    return runReload(this.#reloadHost, handle, source, options);
  }

  /** Drops every live resource and plugin. */
  dispose(): void {
    if (this.#disposed) return;
    for (const entry of this.entries.values()) {
      for (const r of [...entry.resources]) r.dropNow();
      entry.current.instance.dispose();
    }
    this.entries.clear();
    this.#disposed = true;
  }

  #assertLive(): void {
    if (this.#disposed) throw new PluginError(ErrorCode.Disposed, "this PluginHost was disposed");
  }
}

/** A registered key's surface client; vetting guarantees the interface exists for every registered key. */
function serving<T>(client: T | undefined, surface: Surface): T {
  if (!client) throw new Error(`unreachable: a registered ${surface} key without the uni:plugin/${surface} export`);
  return client;
}
