// The write-heavy workload of the durable-host crash tests, runtime-neutral: the Node and Deno children killed with
// SIGKILL (test/durable), the Chromium page reloaded mid-run, and the commit-boundary test (durable-cuts.test.ts)
// all run this. Every write is reported as an acknowledgement (an `Ack`) only after its promise resolved; the
// checker (durable-ledger.ts) holds what a restarted host brings back against them.
//
// What runs at once: two CRDT writers (an or-set element and a pn-counter increment per step), two CDC publishers
// with a downstream sink, an index builder that also drops old indexes, and a reloader that switches each of the
// three plugins between v1 and v2. No `#test` import: the children are plain programs.
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, tableFromIPC } from "apache-arrow";
import type { CdcEmit, LiveCdc, PluginHost } from "../../src/mod.ts";
import type { StateStore } from "../../src/store/types.ts";

/** The components the workload loads and reloads, by file stem in plugins-wasm/dist. */
export const PLUGINS = {
  "dev.uni.crdt": ["crdt-v1", "crdt-v2"],
  "dev.uni.vector-flat": ["vector-flat-v1", "vector-flat-v2"],
  "dev.uni.changelog": ["changelog-v1", "changelog-v2"],
} as const;
export type PluginId = keyof typeof PLUGINS;

/** What the workload reports, one object per acknowledged write (or per write about to start, for reloads). */
export type Ack =
  | { t: "load"; id: string; version: string; generation: number }
  | { t: "create"; name: string }
  | { t: "reloading"; id: string; to: string }
  | { t: "reloaded"; id: string; version: string; generation: number }
  | { t: "crdt"; w: number; i: number }
  | { t: "pub"; p: number; i: number; lsnStart: string; lsnEnd: string }
  | { t: "index"; name: string; digest: string }
  | { t: "dropping"; name: string }
  | { t: "dropped"; name: string }
  | { t: "sink"; lsnStart: string; lsnEnd: string; redelivered: boolean }
  | { t: "caught-up"; acknowledged: string };

/** What a host holds, as the checker compares it. */
export interface HostView {
  plugins: Record<string, { version: string; generation: number }>;
  quarantined: string[];
  /** The or-set's elements, sorted (null: the state is missing). */
  tags: string[] | null;
  count: number | null;
  indexes: Record<string, { digest: string; version: string }>;
  cdc: { nextLsn: string; acknowledged: string; version: string } | null;
  /** Versions serving each resource, to compare with the plugins'. */
  crdtVersion: string | null;
}

export const CRDT_WRITERS = 2;
export const PUBLISHERS = 2;
/** Indexes the builder keeps live at most (older ones are dropped). */
export const LIVE_INDEXES = 3;

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vectorColumn(values: Float32Array, dim: number) {
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** Index `name`'s shape: deterministic in its name; every fourth is big enough for a snapshot blob (> 48 KiB). */
function shapeOf(name: string): { seed: number; rows: number; dim: number } {
  let seed = 0;
  for (const c of name) seed = (Math.imul(seed, 31) + c.charCodeAt(0)) >>> 0;
  return seed % 4 === 0 ? { seed, rows: 1600, dim: 16 } : { seed, rows: 120, dim: 8 };
}

/** Index `name`'s data. */
export function indexData(name: string): Table {
  const { seed, rows, dim } = shapeOf(name);
  const next = rng(seed);
  const values = Float32Array.from({ length: rows * dim }, () => next() * 2 - 1);
  const ids = BigInt64Array.from({ length: rows }, (_, i) => BigInt(i));
  return new Table({ id: makeVector(ids), vector: vectorColumn(values, dim) });
}

function queryFor(dim: number): Table {
  const next = rng(dim * 7919);
  return new Table({
    vector: vectorColumn(
      Float32Array.from({ length: 2 * dim }, () => next() * 2 - 1),
      dim,
    ),
  });
}

/** A probe's answer as a string: ids and distances (rounded: v1 and v2 may differ in the last float bits). */
export async function probeDigest(index: NonNullable<ReturnType<PluginHost["index"]>>): Promise<string> {
  const hits = await index.probe(queryFor(shapeOf(index.name).dim), 5);
  return JSON.stringify(
    hits.toArray().map((r) => {
      const o = r.toJSON() as Record<string, unknown>;
      return Object.entries(o).map(([k, v]) => `${k}=${typeof v === "number" ? v.toFixed(4) : String(v)}`);
    }),
  );
}

/** The rows of publisher `p`'s `i`-th batch in round `round`: ids unique across the whole run. */
export function batchIds(round: number, p: number, i: number): bigint[] {
  const n = 1 + ((round * 7 + p * 3 + i) % 4);
  return Array.from({ length: n }, (_, j) => BigInt(round) * 10_000_000n + BigInt(p) * 1_000_000n + BigInt(i * 8 + j));
}

export function batchTable(ids: bigint[]): Table {
  return new Table({ id: makeVector(BigInt64Array.from(ids)) });
}

/** The ids of a batch as the sink receives it (the changelog output hands the published Arrow IPC on as is). */
export function idsOf(payload: Uint8Array): bigint[] {
  const column = tableFromIPC(payload).getChild("id");
  if (!column) throw new Error("an emit without an id column");
  return [...column.toArray()] as bigint[];
}

// downstream ----------------------------------------------------------------------------------------------------

/** One record of the downstream sink: the rows of LSNs [lsnStart, lsnEnd), one LSN per row. */
export interface DownstreamRecord {
  lsnStart: bigint;
  lsnEnd: bigint;
  ids: bigint[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/**
 * The downstream system: a sink that durably records what it receives together with its position, in its own
 * store, and acknowledges only after that commit. A host redelivers from its last durable acknowledgement after a
 * crash, so the sink recognises LSNs it already holds (at or below its position) and skips them: an idempotent
 * consumer keyed by LSN. A batch that starts past its position is a gap: refused, and reported.
 */
export class Downstream {
  readonly #store: StateStore;
  readonly #prefix: readonly string[];
  #position = 0n;
  #versionstamp: string | null = null;
  redelivered = 0;
  gaps = 0;

  /** `prefix`: where in `store` the sink keeps its records (its own store, or a corner of a shared one). */
  constructor(store: StateStore, prefix: readonly string[] = []) {
    this.#store = store;
    this.#prefix = prefix;
  }

  get position(): bigint {
    return this.#position;
  }

  async open(): Promise<void> {
    const entry = await this.#store.get([...this.#prefix, "pos"]);
    this.#position = entry ? new DataView(entry.value.buffer, entry.value.byteOffset, 8).getBigUint64(0, true) : 0n;
    this.#versionstamp = entry?.versionstamp ?? null;
  }

  /** Every record at or after `from` (an LSN the caller already checked up to), in LSN order. */
  async records(from = 0n): Promise<DownstreamRecord[]> {
    const out: DownstreamRecord[] = [];
    for await (const e of this.#store.list({
      prefix: [...this.#prefix, "rows"],
      start: [...this.#prefix, "rows", from],
    })) {
      const v = JSON.parse(dec.decode(e.value)) as { lsnEnd: string; ids: string[] };
      out.push({ lsnStart: e.key[e.key.length - 1] as bigint, lsnEnd: BigInt(v.lsnEnd), ids: v.ids.map(BigInt) });
    }
    return out;
  }

  /** The sink to subscribe (`stream.onEmit(downstream.sink)`); `ack` hears of every emit it accepted. */
  sink(ack: (a: Ack) => void): (emit: CdcEmit) => Promise<void> {
    return async (emit) => {
      const { lsnStart, lsnEnd } = emit;
      if (lsnEnd <= this.#position) {
        this.redelivered++;
        ack({ t: "sink", lsnStart: String(lsnStart), lsnEnd: String(lsnEnd), redelivered: true });
        return;
      }
      if (lsnStart > this.#position) {
        this.gaps++;
        throw new Error(`downstream gap: holds up to LSN ${this.#position}, got [${lsnStart}, ${lsnEnd})`);
      }
      const ids = idsOf(emit.payload);
      if (BigInt(ids.length) !== lsnEnd - lsnStart) {
        throw new Error(`an emit of ${ids.length} rows over LSNs [${lsnStart}, ${lsnEnd})`);
      }
      const from = this.#position; // a partly redelivered emit: keep the rows past the position
      const kept = ids.slice(Number(from - lsnStart));
      const res = await this.#store.commit({
        checks: [{ key: [...this.#prefix, "pos"], versionstamp: this.#versionstamp }],
        mutations: [
          { type: "set", key: [...this.#prefix, "pos"], value: u64(lsnEnd) },
          {
            type: "set",
            key: [...this.#prefix, "rows", from],
            value: enc.encode(JSON.stringify({ lsnEnd: String(lsnEnd), ids: kept.map(String) })),
          },
        ],
      });
      if (!res.ok) throw new Error("downstream: another writer moved the position");
      this.#position = lsnEnd;
      this.#versionstamp = res.versionstamp;
      ack({ t: "sink", lsnStart: String(lsnStart), lsnEnd: String(lsnEnd), redelivered: from > lsnStart });
    };
  }
}

// the workload ----------------------------------------------------------------------------------------------------

export interface WorkloadOptions {
  host: PluginHost;
  round: number;
  component(name: string): Promise<Uint8Array>;
  ack(a: Ack): void;
  downstream: Downstream;
  /** Steps per loop; unbounded (until the process dies) when absent. */
  steps?: number;
  /** Milliseconds the reloader rests between reloads (default 0). */
  reloadPauseMs?: number;
  /** Called once the setup is done and downstream has caught up, before the loops start. */
  onReady?(): void;
}

const RESOURCES = ["tags", "count", "feed"] as const;

/**
 * Brings the host to the workload's starting shape — the three plugins loaded, the two CRDT states and the CDC
 * stream created — doing only what a restore did not bring back (a crash may have hit the first round's setup).
 */
export async function setUp(o: WorkloadOptions): Promise<LiveCdc> {
  const { host } = o;
  for (const [id, [v1]] of Object.entries(PLUGINS)) {
    if (host.plugins().some((p) => p.id === id)) continue;
    const handle = await host.load(await o.component(v1));
    o.ack({ t: "load", id, version: handle.version, generation: handle.generation });
  }
  for (const name of RESOURCES) {
    if (name === "feed" ? host.cdc(name) : host.crdt(name)) continue;
    if (name === "tags") await host.createCrdt("tags", "or-set");
    else if (name === "count") await host.createCrdt("count", "pn-counter");
    else await host.attachCdc("feed", "changelog", { checkpointEvery: 3 });
    o.ack({ t: "create", name });
  }
  return host.cdc("feed") as LiveCdc;
}

/** What the host holds now. */
export async function view(host: PluginHost, quarantined: string[] = []): Promise<HostView> {
  const plugins: HostView["plugins"] = {};
  for (const p of host.plugins()) plugins[p.id] = { version: p.version, generation: p.generation };
  const tags = host.crdt("tags");
  const count = host.crdt("count");
  const indexes: HostView["indexes"] = {};
  for (const p of host.plugins()) {
    for (const r of p.resources) {
      if (r.surface !== "index") continue;
      const idx = host.index(r.name);
      if (idx) indexes[r.name] = { digest: await probeDigest(idx), version: idx.servedBy.version };
    }
  }
  const feed = host.cdc("feed");
  return {
    plugins,
    quarantined,
    tags: tags ? ((await tags.value()) as string[]).map(String).sort() : null,
    count: count ? Number(await count.value()) : null,
    indexes,
    cdc: feed
      ? { nextLsn: String(feed.nextLsn), acknowledged: String(feed.acknowledged), version: feed.servedBy.version }
      : null,
    crdtVersion: tags ? tags.servedBy.version : null,
  };
}

/** Runs every loop at once; resolves when each has done `steps` (never, without `steps`). */
export async function runWorkload(o: WorkloadOptions): Promise<void> {
  const { host, round } = o;
  const steps = o.steps ?? Number.POSITIVE_INFINITY;
  const feed = await setUp(o);
  // Downstream subscribes, and first takes what the host redelivers from its last durable acknowledgement.
  feed.onEmit(o.downstream.sink(o.ack));
  await feed.checkpoint(); // a buffering output (changelog v2) emits what it holds
  o.ack({ t: "caught-up", acknowledged: String(await feed.delivered()) });
  o.onReady?.();
  const tags = host.crdt("tags");
  const count = host.crdt("count");
  if (!tags || !count) throw new Error("setUp left a CRDT state missing");

  const crdtWriter = async (w: number) => {
    for (let i = 0; i < steps; i++) {
      await Promise.all([tags.apply(["add", `${round}.${w}.${i}`, `t${round}.${w}.${i}`]), count.apply([`w${w}`, 1])]);
      o.ack({ t: "crdt", w, i });
    }
  };
  const publisher = async (p: number) => {
    for (let i = 0; i < steps; i++) {
      const { lsnStart, lsnEnd } = await feed.publish(batchTable(batchIds(round, p, i)), {
        commitMicros: BigInt(i),
        source: `${round}/${p}/${i}`,
      });
      o.ack({ t: "pub", p, i, lsnStart: String(lsnStart), lsnEnd: String(lsnEnd) });
    }
  };
  const indexer = async () => {
    const mine: string[] = [];
    for (let i = 0; i < steps; i++) {
      const name = `ix.${round}.${i}`;
      const idx = await host.createIndex(name, "vector.flat", indexData(name), { metric: "l2" });
      o.ack({ t: "index", name, digest: await probeDigest(idx) });
      mine.push(name);
      const live = host
        .plugins()
        .flatMap((p) => p.resources)
        .filter((r) => r.surface === "index")
        .map((r) => r.name);
      if (live.length > LIVE_INDEXES) {
        const oldest = live.find((n) => !mine.includes(n)) ?? (mine.shift() as string);
        o.ack({ t: "dropping", name: oldest });
        await host.index(oldest)?.drop();
        o.ack({ t: "dropped", name: oldest });
      }
    }
  };
  const reloader = async () => {
    const ids = Object.keys(PLUGINS) as PluginId[];
    for (let i = 0; i < steps; i++) {
      const id = ids[(round + i) % ids.length] as PluginId;
      const current = host.plugins().find((p) => p.id === id);
      if (!current) throw new Error(`plugin ${id} is not loaded`);
      const [v1, v2] = PLUGINS[id];
      // crdt-v1 cannot read v2's state format: once on v2, the CRDT plugin is reloaded onto v2 again (a redeploy
      // of the same version is a full reload too: new instance, handoff, new generation).
      const to = current.version.startsWith("1.") || id === "dev.uni.crdt" ? v2 : v1;
      o.ack({ t: "reloading", id, to: to.endsWith("v1") ? "1.0.0" : "2.0.0" });
      const report = await host.reload(current, await o.component(to));
      const next = report.to as NonNullable<typeof report.to>;
      o.ack({ t: "reloaded", id, version: next.version, generation: next.generation });
      if (o.reloadPauseMs) await new Promise((resolve) => setTimeout(resolve, o.reloadPauseMs));
    }
  };
  await Promise.all([
    ...Array.from({ length: CRDT_WRITERS }, (_, w) => crdtWriter(w)),
    ...Array.from({ length: PUBLISHERS }, (_, p) => publisher(p)),
    indexer(),
    reloader(),
  ]);
}
