/**
 * `FleetNode`: one process's membership of a fleet sharing one `StateStore` (Deno KV in practice). It wraps the
 * process's own `PluginHost` and runs, until stopped:
 *
 * - heartbeats (membership.ts) and index replicas (indexes.ts), every `heartbeatMs`;
 * - version convergence and rollouts (converge.ts, rollout.ts), whenever a plugin record changes (poll or watch);
 * - CRDT anti-entropy (replication.ts), every `antiEntropyMs`;
 * - one lease loop per CDC stream it may deliver (cdc-owner.ts).
 *
 * @example
 * ```ts
 * const store = await openDenoKvStore("./fleet.kv");
 * const host = new PluginHost({ store, namespace: nodeNamespace("edge-1") }); // its own durable state
 * const node = new FleetNode({ host, store, nodeId: "edge-1" });
 * await node.start();                                   // serves the fleet's stable versions, opens index replicas
 * const likes = await node.crdt("likes", "pn-counter"); // replicated; reads are local
 * await node.stream("changes", { output: "changelog", source, sink });
 * // elsewhere: await new FleetControl(store).rollout(newVersionBytes);
 * ```
 *
 * @module
 */
import type { ArrowInput } from "../arrow.ts";
import { ErrorCode } from "../errors.ts";
import type { PluginHost } from "../host.ts";
import type { LiveCrdt } from "../resources/crdt.ts";
import type { LiveIndex } from "../resources/index.ts";
import type { StateStore } from "../store/types.ts";
import { type FleetStreamOptions, StreamOwner, type StreamStatus } from "./cdc-owner.ts";
import { Converger, type FleetEvent } from "./converge.ts";
import { FleetError } from "./errors.ts";
import { IndexReplicas } from "./indexes.ts";
import { FleetKeys } from "./keys.ts";
import { Membership } from "./membership.ts";
import { type ChangeNotifier, pollNotifier, type Waker } from "./notify.ts";
import type { ServingRecord } from "./records.ts";
import { Replication, type ReplicaStatus } from "./replication.ts";

export interface FleetNodeOptions {
  /** This process's host. Give it a store and `namespace: nodeNamespace(nodeId)` so a restart restores it. */
  host: PluginHost;
  /** The store every node of the fleet shares. */
  store: StateStore;
  /** Unique in the fleet and stable across restarts (a restarted node resumes its identity and durable state). */
  nodeId: string;
  /** Keeps fleets sharing a store apart. Default `"default"`. */
  namespace?: string;
  /** Reported in the status (`"deno"`, `"node"`, …). */
  runtime?: string;
  /** Heartbeat interval. Default 1000 ms. */
  heartbeatMs?: number;
  /** A node whose heartbeat has not changed for this long is down. Default 5 × `heartbeatMs`. */
  nodeTtlMs?: number;
  /** CRDT anti-entropy interval. Default 1000 ms. */
  antiEntropyMs?: number;
  /** How changes are noticed: `pollNotifier()` (default) or `watchNotifier(feed)`; see notify.ts. */
  notify?: ChangeNotifier;
  /** Longest wait at a rollout's commit barrier (and for any reload step). Default 30 s. */
  rolloutTimeoutMs?: number;
  /** Receives what the node does (loads, reloads, rollout steps, ownership changes, errors of background work). */
  onEvent?: (event: FleetEvent) => void;
}

/** What one node reports about itself (`FleetNode.status()`). */
export interface NodeStatus {
  id: string;
  incarnation: string;
  runtime: string;
  plugins: Record<string, ServingRecord>;
  /** Plugin ids not serving their stable version here, with why. */
  diverged: Record<string, string>;
  /** Nodes this one considers up. */
  live: string[];
  streams: StreamStatus[];
  crdts: ReplicaStatus[];
  indexes: { open: string[]; waiting: Record<string, string> };
}

export class FleetNode {
  readonly nodeId: string;
  /** Random per start: tells a restarted node from its previous life. */
  readonly incarnation: string;
  readonly keys: FleetKeys;
  readonly #host: PluginHost;
  readonly #store: StateStore;
  readonly #heartbeatMs: number;
  readonly #antiEntropyMs: number;
  readonly #notifier: ChangeNotifier;
  readonly #membership: Membership;
  readonly #converger: Converger;
  readonly #replication: Replication;
  readonly #indexes: IndexReplicas;
  readonly #streams = new Map<string, StreamOwner>();
  readonly #onEvent: (event: FleetEvent) => void;
  readonly #loops: Promise<void>[] = [];
  readonly #wakers: Waker[] = [];
  #running = false;
  #stopped = false;

  constructor(options: FleetNodeOptions) {
    if (!options.host || !options.store || typeof options.nodeId !== "string" || options.nodeId === "") {
      throw new FleetError(ErrorCode.TypeCoercion, "FleetNode needs a host, a store and a non-empty nodeId");
    }
    this.nodeId = options.nodeId;
    this.incarnation = crypto.randomUUID();
    this.keys = new FleetKeys(options.namespace ?? "default");
    this.#host = options.host;
    this.#store = options.store;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#antiEntropyMs = options.antiEntropyMs ?? 1000;
    this.#notifier = options.notify ?? pollNotifier();
    this.#onEvent = options.onEvent ?? (() => {});
    const event = (e: FleetEvent) => this.#onEvent(e);
    const common = { host: this.#host, store: this.#store, keys: this.keys, nodeId: this.nodeId, event };
    this.#membership = new Membership({
      store: this.#store,
      keys: this.keys,
      nodeId: this.nodeId,
      incarnation: this.incarnation,
      runtime: options.runtime ?? "unknown",
      heartbeatMs: this.#heartbeatMs,
      nodeTtlMs: options.nodeTtlMs ?? 5 * this.#heartbeatMs,
      describe: () => ({
        plugins: this.#serving(),
        owns: [...this.#streams.values()].filter((s) => s.role === "owner").map((s) => s.name),
        diverged: { ...this.#converger.diverged },
      }),
    });
    this.#converger = new Converger({
      ...common,
      incarnation: this.incarnation,
      membership: this.#membership,
      notifier: this.#notifier,
      rolloutTimeoutMs: options.rolloutTimeoutMs ?? 30_000,
      onCommitted: (pluginId) => {
        this.#indexes.republish(pluginId).catch((err) => this.#background("republishing indexes", err));
      },
    });
    const readable = (id: string) => this.#converger.readable(id);
    this.#replication = new Replication({ ...common, readable });
    this.#indexes = new IndexReplicas({ ...common, readable });
  }

  /**
   * Joins the fleet: waits for the host's restore, announces itself, serves the fleet's stable version of every
   * plugin (loading or reloading), opens the fleet's indexes, then keeps converging in the background.
   *
   * # Errors
   * The host's restore failure; the store's errors on the first heartbeat.
   */
  async start(): Promise<void> {
    if (this.#running || this.#stopped) throw new FleetError(ErrorCode.Forbidden, "a FleetNode starts once");
    this.#running = true;
    await this.#host.restored;
    await this.#membership.beat();
    // Watch before reading (a change in between would go unnoticed until the fallback poll).
    let watched = await this.#pluginIds();
    let converge = this.#convergeWaker(watched);
    await this.#converger.pass();
    await this.#indexes.sync();
    this.#loop("heartbeat", () => this.#heartbeat(), this.#every(this.#heartbeatMs));
    this.#loop(
      "convergence",
      () => this.#converger.pass(),
      async () => {
        const ids = [...this.#converger.records.keys()].sort();
        if (ids.join("\n") !== watched.join("\n")) {
          // A plugin id joined the fleet: watch it too, then look again at once.
          converge.close();
          watched = ids;
          converge = this.#convergeWaker(ids);
          return;
        }
        await converge.next(this.#converger.busy);
      },
    );
    this.#loop("anti-entropy", () => this.#replication.pass(), this.#every(this.#antiEntropyMs));
  }

  /** A replicated CRDT state: the local one (created empty if absent), merged with the other nodes' by anti-entropy. */
  async crdt(name: string, kind: string): Promise<LiveCrdt> {
    const live = this.#host.crdt(name) ?? (await this.#host.createCrdt(name, kind));
    if (live.kind !== kind) {
      throw new FleetError(ErrorCode.DuplicateKey, `crdt "${name}" is a ${live.kind} here, not a ${kind}`);
    }
    this.#replication.track(name, kind);
    return live;
  }

  /** Makes this node a candidate to deliver stream `name` (see cdc-owner.ts). */
  async stream(name: string, options: FleetStreamOptions): Promise<void> {
    if (this.#streams.has(name)) throw new FleetError(ErrorCode.DuplicateKey, `stream "${name}" is declared twice`);
    const owner = new StreamOwner(
      {
        host: this.#host,
        store: this.#store,
        keys: this.keys,
        nodeId: this.nodeId,
        incarnation: this.incarnation,
        notifier: this.#notifier,
        event: (e) => this.#onEvent(e),
      },
      name,
      options,
    );
    this.#streams.set(name, owner);
    await owner.start();
  }

  /** Builds an index here and publishes its snapshot: every node, and every node that joins, opens a replica. */
  createIndex(name: string, kind: string, source: ArrowInput, options: object = {}): Promise<LiveIndex> {
    return this.#indexes.create(name, kind, source, options);
  }

  /** This node's view of itself. */
  status(): NodeStatus {
    const open = this.#host
      .plugins()
      .flatMap((p) => p.resources.filter((r) => r.surface === "index").map((r) => r.name));
    return {
      id: this.nodeId,
      incarnation: this.incarnation,
      runtime: this.#membership.own().runtime,
      plugins: this.#serving(),
      diverged: { ...this.#converger.diverged },
      live: this.#membership.live(),
      streams: [...this.#streams.values()].map((s) => s.status()),
      crdts: this.#replication.status(),
      indexes: { open: open.sort(), waiting: { ...this.#indexes.waiting } },
    };
  }

  /** Waits until no rollout this node takes part in is still running here. */
  settled(): Promise<void> {
    return this.#converger.settled();
  }

  /**
   * Leaves the fleet: hands its streams over (state published, lease freed), writes a last replica of each CRDT
   * state, marks its record "left", and stops its loops. The host is the caller's to dispose.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#converger.stop();
    for (const w of this.#wakers) w.close();
    await Promise.all([...this.#streams.values()].map((s) => s.stop()));
    await Promise.allSettled(this.#loops);
    await this.#converger.settled();
    await this.#replication.pass().catch((err) => this.#background("the last anti-entropy pass", err));
    await this.#membership.beat("left").catch((err) => this.#background("the last heartbeat", err));
  }

  /** Stops every loop at once, freeing nothing — as a crash would (for failover tests in one process). */
  halt(): void {
    this.#stopped = true;
    for (const s of this.#streams.values()) s.halt();
    for (const w of this.#wakers) w.close();
  }

  async #pluginIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const e of this.#store.list({ prefix: this.keys.plugins() })) ids.push(String(e.key.at(-1)));
    return ids.sort();
  }

  /** The convergence loop's waker: the catalog (new ids) and each plugin id's record. */
  #convergeWaker(ids: readonly string[]): Waker {
    const waker = this.#notifier.waker([this.keys.catalog(), ...ids.map((id) => this.keys.plugin(id))]);
    this.#wakers.push(waker);
    return waker;
  }

  #serving(): Record<string, ServingRecord> {
    const out: Record<string, ServingRecord> = {};
    for (const p of this.#host.plugins()) out[p.id] = { version: p.version, generation: p.generation, hash: p.hash };
    return out;
  }

  async #heartbeat(): Promise<void> {
    await this.#membership.beat();
    await this.#indexes.sync();
  }

  /**
   * A fixed-rate wait: passes start every `ms` (a pass that took longer starts the next at once), without jitter,
   * so an interval is what it says (the convergence bound of anti-entropy is two of them). `stop`/`halt` cut it short.
   */
  #every(ms: number): () => Promise<void> {
    let due = performance.now() + ms;
    const sleep = (wait: number) => pollNotifier({ minMs: wait, maxMs: wait, jitter: 0 }).waker([]);
    return async () => {
      const wait = Math.max(0, due - performance.now());
      due = Math.max(due, performance.now()) + ms;
      if (wait === 0 || this.#stopped) return;
      const waker = sleep(wait);
      this.#wakers.push(waker);
      await waker.next(true);
      this.#wakers.splice(this.#wakers.indexOf(waker), 1);
    };
  }

  #loop(what: string, pass: () => Promise<unknown>, wait: () => Promise<void>): void {
    const run = async () => {
      while (!this.#stopped) {
        try {
          await pass();
        } catch (err) {
          this.#background(what, err);
        }
        if (this.#stopped) return;
        await wait();
      }
    };
    this.#loops.push(run());
  }

  #background(where: string, err: unknown): void {
    this.#onEvent({ type: "error", where, message: err instanceof Error ? err.message : String(err) });
  }
}
