/**
 * Heartbeats and the view of who is up. Each node rewrites its own record every `heartbeatMs` (what it serves,
 * what it owns) and reads everyone else's; a node is alive while its record's versionstamp keeps changing
 * (liveness.ts), and for `nodeTtlMs` after this node first saw it. A record whose wall-clock time is far in the
 * past (more than three TTLs) counts as dead at once, so a node that just started does not wait a whole TTL for
 * nodes that died long ago.
 *
 * @module
 */
import type { StateStore } from "../store/types.ts";
import type { FleetKeys } from "./keys.ts";
import { Staleness } from "./liveness.ts";
import { type NodeRecord, readNode, writeNode } from "./records.ts";
import type { FleetView } from "./rollout.ts";

export interface MembershipOptions {
  store: StateStore;
  keys: FleetKeys;
  nodeId: string;
  incarnation: string;
  runtime: string;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** What this node serves and owns now, for its record. */
  describe(): Pick<NodeRecord, "plugins" | "owns" | "diverged">;
}

export class Membership {
  readonly #o: MembershipOptions;
  readonly #staleness = new Staleness();
  readonly #startedAt = Date.now();
  /** Every node record as last read (this node's own as last written). */
  records = new Map<string, NodeRecord>();
  /** Problems reading other nodes' records (a damaged record is skipped, never trusted). */
  readonly problems: string[] = [];

  constructor(options: MembershipOptions) {
    this.#o = options;
  }

  /** This node's record as it would be written now. */
  own(state: "up" | "left" = "up"): NodeRecord {
    const o = this.#o;
    return {
      id: o.nodeId,
      incarnation: o.incarnation,
      runtime: o.runtime,
      state,
      startedAt: this.#startedAt,
      at: Date.now(),
      heartbeatMs: o.heartbeatMs,
      ...o.describe(),
    };
  }

  /** Writes this node's heartbeat, then reads everyone's. */
  async beat(state: "up" | "left" = "up"): Promise<void> {
    const o = this.#o;
    const record = this.own(state);
    await o.store.commit({ mutations: [{ type: "set", key: o.keys.node(o.nodeId), value: writeNode(record) }] });
    this.records.set(o.nodeId, record);
    await this.refresh();
  }

  /** Reads every node record and notes which changed. */
  async refresh(): Promise<void> {
    const o = this.#o;
    const next = new Map<string, NodeRecord>();
    const problems: string[] = [];
    for await (const e of o.store.list(
      { prefix: o.keys.nodes() },
      { onCorrupt: (key, err) => problems.push(`${String(key.at(-1))}: ${err.message}`) },
    )) {
      try {
        const r = readNode(e.key, e.value);
        next.set(r.id, r);
        if (r.id !== o.nodeId) this.#staleness.observe(r.id, e.versionstamp);
      } catch (err) {
        problems.push(`${String(e.key.at(-1))}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const own = this.records.get(o.nodeId);
    if (own) next.set(o.nodeId, own);
    this.records = next;
    this.problems.splice(0, this.problems.length, ...problems);
  }

  /**
   * Whether `node` is up (this node always is, to itself). A node whose record this node has not read yet counts as
   * up: a rollout may name a member that started after this node's last read, and leaving it out would commit
   * without it.
   */
  alive(node: string): boolean {
    if (node === this.#o.nodeId) return true;
    const r = this.records.get(node);
    if (!r) return true;
    if (r.state !== "up") return false;
    if (Date.now() - r.at > 3 * this.#o.nodeTtlMs) return false;
    const age = this.#staleness.age(node);
    return age !== undefined && age < this.#o.nodeTtlMs;
  }

  /** The nodes up now, sorted. */
  live(): string[] {
    return [...this.records.keys()].filter((id) => this.alive(id)).sort();
  }

  /** The view rollout decisions take. */
  view(): FleetView {
    return {
      alive: (node) => this.alive(node),
      incarnation: (node) => (node === this.#o.nodeId ? this.#o.incarnation : this.records.get(node)?.incarnation),
      now: Date.now(),
    };
  }
}
