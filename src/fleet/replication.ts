/**
 * CRDT replication by anti-entropy. Every `antiEntropyMs` each node, for each replicated state:
 *
 * 1. writes its own state's persisted bytes as its replica record, when they changed;
 * 2. then merges every other node's replica record that changed since it last merged it (`LiveCrdt.merge` of the
 *    persisted bytes: idempotent, commutative, associative, so order and repetition do not matter).
 *
 * Reads stay local (`LiveCrdt.value()`), eventually consistent. A write made on one node is in its record at that
 * node's next pass, and merged by every other node at theirs: all nodes hold the same value within two intervals
 * of the last write (plus the time a pass takes). Publishing first keeps a node's own writes from waiting behind
 * its merges; what it merged reaches the others directly from the nodes that wrote it.
 *
 * Version skew: each record says which plugin version persisted it. A node merges records written by the version it
 * serves, or by one its rollout proved it reads (converge.ts `readable`); a record of a newer version waits
 * (`deferred` in the status) until this node serves that version. That is not a formality: crdt-v1 cannot read
 * crdt-v2's binary format, and a plugin fed bytes it misreads could trap and poison its instance.
 *
 * A state named in the store but not yet live here is created on first sight (the node joins its replication),
 * when some plugin here provides its kind.
 *
 * @module
 */
import { toPluginError } from "../errors.ts";
import type { PluginHost } from "../host.ts";
import type { LiveCrdt } from "../resources/crdt.ts";
import type { StateStore } from "../store/types.ts";
import type { FleetEvent } from "./converge.ts";
import type { FleetKeys } from "./keys.ts";
import { loadPayload, storePayload } from "./payload.ts";
import { type ReplicaRecord, readReplica, writeReplica } from "./records.ts";

export interface ReplicationOptions {
  host: PluginHost;
  store: StateStore;
  keys: FleetKeys;
  nodeId: string;
  /** Versions of a plugin whose persisted bytes its serving version reads (converge.ts). */
  readable(pluginId: string): string[];
  event(e: FleetEvent): void;
}

/** What the status says about one replicated state on this node. */
export interface ReplicaStatus {
  name: string;
  kind: string;
  /** Plugin version serving the state here. */
  version?: string;
  /** When this node last wrote its replica record (wall-clock ms). */
  publishedAt?: number;
  /** Per peer: when its record was last merged here, and how long after the peer wrote it. */
  merged: Record<string, { at: number; lagMs: number }>;
  /** Per peer: why its record is not merged here (yet). */
  deferred: Record<string, string>;
  /** Anti-entropy passes over this state. */
  passes: number;
}

interface Tracked {
  name: string;
  kind: string;
  /** Versionstamp of each peer's record as last merged. */
  merged: Map<string, string>;
  /** Bytes last written as this node's record. */
  published: Uint8Array | undefined;
  status: ReplicaStatus;
}

export class Replication {
  readonly #o: ReplicationOptions;
  readonly #tracked = new Map<string, Tracked>();

  constructor(options: ReplicationOptions) {
    this.#o = options;
  }

  /** Replicates state `name` (of `kind`) from now on. */
  track(name: string, kind: string): void {
    if (this.#tracked.has(name)) return;
    this.#tracked.set(name, {
      name,
      kind,
      merged: new Map(),
      published: undefined,
      status: { name, kind, merged: {}, deferred: {}, passes: 0 },
    });
  }

  status(): ReplicaStatus[] {
    return [...this.#tracked.values()].map((t) => structuredClone(t.status));
  }

  /** One anti-entropy pass over every replicated state (see the module doc). Resolves whether anything changed. */
  async pass(): Promise<boolean> {
    const o = this.#o;
    const byName = new Map<string, { record: ReplicaRecord; versionstamp: string }[]>();
    for await (const e of o.store.list(
      { prefix: o.keys.allReplicas() },
      {
        onCorrupt: (key, err) =>
          o.event({ type: "error", where: `replica ${key.slice(-2).join("/")}`, message: err.message }),
      },
    )) {
      try {
        const record = readReplica(e.key, e.value);
        const list = byName.get(record.name) ?? [];
        list.push({ record, versionstamp: e.versionstamp });
        byName.set(record.name, list);
      } catch (err) {
        o.event({ type: "error", where: `replica ${e.key.slice(-2).join("/")}`, message: toPluginError(err).message });
      }
    }
    for (const [name, list] of byName) {
      const first = list[0];
      if (!this.#tracked.has(name) && first && o.host.provider("crdt", first.record.kind)) {
        this.track(name, first.record.kind);
      }
    }
    let changed = false;
    for (const t of this.#tracked.values()) {
      try {
        if (await this.#sync(t, byName.get(t.name) ?? [])) changed = true;
      } catch (err) {
        o.event({ type: "error", where: `replicating crdt "${t.name}"`, message: toPluginError(err).message });
      }
    }
    return changed;
  }

  /** The live state, created empty when this node does not have it yet. */
  async #live(t: Tracked): Promise<LiveCrdt | undefined> {
    const o = this.#o;
    const live = o.host.crdt(t.name);
    if (live) return live;
    if (!o.host.provider("crdt", t.kind)) return undefined; // no plugin here provides the kind (yet)
    try {
      return await o.host.createCrdt(t.name, t.kind);
    } catch {
      return o.host.crdt(t.name); // created meanwhile by the application
    }
  }

  async #sync(t: Tracked, records: { record: ReplicaRecord; versionstamp: string }[]): Promise<boolean> {
    const o = this.#o;
    const live = await this.#live(t);
    if (!live) return false;
    t.status.passes++;
    await this.#publish(t, live);
    let changed = false;
    for (const { record, versionstamp } of records) {
      if (record.node === o.nodeId || t.merged.get(record.node) === versionstamp) continue;
      const serving = live.servedBy;
      if (!o.readable(serving.id).includes(record.version)) {
        t.status.deferred[record.node] =
          `written by ${record.plugin} ${record.version}; ${serving.id} ${serving.version} here merges it once it ` +
          "serves a version that reads it";
        continue;
      }
      try {
        await live.merge(await loadPayload(o.store, record.state));
        t.merged.set(record.node, versionstamp);
        delete t.status.deferred[record.node];
        const now = Date.now();
        t.status.merged[record.node] = { at: now, lagMs: Math.max(0, now - record.at) };
        changed = true;
      } catch (err) {
        t.status.deferred[record.node] = toPluginError(err).message;
      }
    }
    return changed;
  }

  /** Writes this node's replica record when its state changed since the last one. */
  async #publish(t: Tracked, live: LiveCrdt): Promise<void> {
    const o = this.#o;
    const before = live.servedBy;
    const bytes = await live.persist();
    const after = live.servedBy;
    // A reload committed between reading the version and persisting: the bytes' version is uncertain; next pass.
    if (before.generation !== after.generation) return;
    t.status.version = after.version;
    if (t.published && sameBytes(t.published, bytes)) return;
    const { payload, blobs } = await storePayload(o.store, bytes);
    const record: ReplicaRecord = {
      node: o.nodeId,
      name: t.name,
      kind: t.kind,
      plugin: after.id,
      version: after.version,
      state: payload,
      at: Date.now(),
    };
    await o.store.commit({
      mutations: [{ type: "set", key: o.keys.replica(t.name, o.nodeId), value: writeReplica(record), blobs }],
    });
    t.published = bytes.slice();
    t.status.publishedAt = record.at;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
