/**
 * Index replicas. An index built on one node (`FleetNode.createIndex`) is persisted and its snapshot published as
 * `["fleet", ns, "index", name]` (inline, or a blob the record links); every node — those up now, and any that
 * joins later — opens its own replica from that snapshot (`PluginHost.openIndex`) and probes it locally. Indexes
 * are immutable once built (the WIT index surface has build, open, probe, persist), so one snapshot serves for
 * good; after a rollout the first node to commit republishes it in the new version's format, so a node joining
 * later reads it whichever version it runs. A snapshot written by a version this node's serving version has not
 * been proven to read waits until it serves one that does (the same rule as CRDT replicas).
 *
 * @module
 */
import type { ArrowInput } from "../arrow.ts";
import { ErrorCode, toPluginError } from "../errors.ts";
import type { PluginHost } from "../host.ts";
import type { LiveIndex } from "../resources/index.ts";
import type { Entry, StateStore } from "../store/types.ts";
import { casUpdate } from "./cas.ts";
import type { FleetEvent } from "./converge.ts";
import { FleetError } from "./errors.ts";
import type { FleetKeys } from "./keys.ts";
import { loadPayload, storePayload } from "./payload.ts";
import { type IndexRecord, readIndex, writeIndex } from "./records.ts";

export interface IndexReplicaOptions {
  host: PluginHost;
  store: StateStore;
  keys: FleetKeys;
  nodeId: string;
  readable(pluginId: string): string[];
  event(e: FleetEvent): void;
}

export class IndexReplicas {
  readonly #o: IndexReplicaOptions;
  /** Why an index is not open here (yet), by name. */
  readonly waiting: Record<string, string> = {};

  constructor(options: IndexReplicaOptions) {
    this.#o = options;
  }

  /**
   * Builds index `name` here and publishes its snapshot for every other node.
   *
   * # Errors
   * `DuplicateKey` when the fleet already has an index of that name (the local build is dropped again); the
   * host's errors for the build; the store's for the snapshot.
   */
  async create(name: string, kind: string, source: ArrowInput, options: object = {}): Promise<LiveIndex> {
    const o = this.#o;
    const key = o.keys.index(name);
    if (await o.store.get(key)) {
      throw new FleetError(ErrorCode.DuplicateKey, `the fleet already has an index named "${name}"`);
    }
    const live = await o.host.createIndex(name, kind, source, options);
    try {
      const { payload, blobs } = await storePayload(o.store, await live.persist());
      const record: IndexRecord = {
        name,
        kind,
        options: JSON.stringify(options),
        plugin: live.servedBy.id,
        version: live.servedBy.version,
        snapshot: payload,
        createdBy: o.nodeId,
        at: Date.now(),
      };
      const res = await o.store.commit({
        checks: [{ key, versionstamp: null }],
        mutations: [{ type: "set", key, value: writeIndex(record), blobs }],
      });
      if (!res.ok) throw new FleetError(ErrorCode.DuplicateKey, `the fleet already has an index named "${name}"`);
      return live;
    } catch (err) {
      await live.drop().catch(() => {});
      throw err;
    }
  }

  /** Opens every fleet index this node lacks. Resolves whether it opened any. */
  async sync(): Promise<boolean> {
    const o = this.#o;
    let opened = false;
    for await (const e of o.store.list({ prefix: o.keys.indexes() })) {
      let record: IndexRecord;
      try {
        record = readIndex(e.key, e.value);
      } catch (err) {
        o.event({ type: "error", where: `index record ${String(e.key.at(-1))}`, message: toPluginError(err).message });
        continue;
      }
      if (o.host.index(record.name)) {
        delete this.waiting[record.name];
        continue;
      }
      const provider = o.host.provider("index", record.kind);
      if (!provider) {
        this.waiting[record.name] = `no plugin here provides index kind "${record.kind}"`;
        continue;
      }
      if (!o.readable(provider.id).includes(record.version)) {
        this.waiting[record.name] =
          `snapshot written by ${record.plugin} ${record.version}; ${provider.id} ${provider.version} here opens it ` +
          "once it serves a version that reads it";
        continue;
      }
      try {
        await o.host.openIndex(record.name, record.kind, await loadPayload(o.store, record.snapshot));
        delete this.waiting[record.name];
        opened = true;
      } catch (err) {
        this.waiting[record.name] = toPluginError(err).message;
      }
    }
    return opened;
  }

  /**
   * After a reload of `pluginId` committed here: snapshots of its kinds still in another version's format are
   * written again from this node's replica, in its new version's format (the first node to do so wins).
   */
  async republish(pluginId: string): Promise<void> {
    const o = this.#o;
    for await (const e of o.store.list({ prefix: o.keys.indexes() })) {
      let record: IndexRecord;
      try {
        record = readIndex(e.key, e.value);
      } catch {
        continue;
      }
      const live = o.host.index(record.name);
      if (!live || live.servedBy.id !== pluginId || live.servedBy.version === record.version) continue;
      const version = live.servedBy.version;
      const { payload, blobs } = await storePayload(o.store, await live.persist());
      await casUpdate(o.store, e.key, (cur: Entry | null) => {
        if (!cur || cur.versionstamp !== e.versionstamp) return null; // rewritten or dropped meanwhile
        return { value: writeIndex({ ...record, version, snapshot: payload, at: Date.now() }), blobs };
      });
    }
  }
}
