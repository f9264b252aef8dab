/**
 * 1. Call overhead at every layer a user touches, for four calls:
 *
 *   - the trivial export `index-handle.supports-filter`
 *   - an index probe, batch 1 (1 query, k = 10, over a tiny 64 x 64-d index, so the call dominates)
 *   - a CRDT `apply` of one op (pn-counter, `["replica-a", 1]` as MessagePack)
 *   - a logical-type cast (`geo.point` cast-to Utf8 of a one-value column)
 *
 * Layers, all in the same round, interleaved:
 *   raw    the core wasm export called directly, ABI by hand (bench/core/raw-core.ts)
 *   client the component client (`instance.index` / `.crdt` / `.logicalType`, synchronous)
 *   host   the PluginHost resource (`LiveIndex`, `LiveCrdt`, `LogicalType`: through the reload gate, async)
 *
 * Each layer's figure per round is the best of three timed runs, the layers
 * interleaved within the round; ratios are taken per round.
 *
 * Ratios: client ÷ raw, host ÷ raw (the README's headline), host ÷ client
 * (issue #10's ≤ 1.25x goal for the one-op apply and the batch-1 probe).
 * Peers (jco glue with its debug logger as shipped and disabled, Extism)
 * where the runtime has them, against the raw trivial call.
 *
 * @module
 */
import { decode, encode } from "@msgpack/msgpack";
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import { component, fromIPC, PluginHost, toIPC } from "../../src/mod.ts";
import { clusteredVectors, indexSource, queryTable, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { FlatIndexJs } from "./flat-js.ts";
import { rawCore, repOf } from "./raw-core.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, Figure } from "./types.ts";

const GROUP = "1. call overhead";
const utf8 = new TextEncoder();

/** A loop body running `n` calls; sync loops return a number, async ones a promise of it. */
type Loop = (n: number) => number | Promise<number>;

/** Timed runs per layer per round; the round keeps the fastest (preemption on a shared machine only adds time). */
const BEST_OF = 3;

async function nsPerCall(n: number, body: Loop): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < BEST_OF; i++) {
    const t0 = now();
    const r = body(n);
    if (typeof r !== "number") await r;
    best = Math.min(best, ((now() - t0) * 1e6) / n);
  }
  return best;
}

interface Op {
  id: string;
  what: string;
  /** Calls per timed loop: sync layers, async layers. */
  n: number;
  nAsync: number;
  raw: Loop;
  client: Loop;
  host: Loop;
  /** The sync work the host call does, for host ÷ client when the host does more than the client (cast: + fromIPC). */
  clientSameWork?: Loop;
  /** Goal on host ÷ client. */
  hostVsClientGoal?: number;
  /** Goal on client ÷ raw. */
  clientGoal?: number;
  /** Goal on host ÷ raw. */
  hostGoal?: number;
  /** Checks the answers after all timing (e.g. how many applies landed). */
  check?: () => Promise<void>;
  notes: string;
}

export async function callOverhead(env: BenchEnv): Promise<Figure[]> {
  const rounds = env.smoke ? 1 : 9;
  const scale = env.smoke ? 0.01 : 1;
  const count = (n: number) => Math.max(50, Math.round(n * scale));
  const host = new PluginHost({ onLog: () => {} });
  const disposers: (() => void)[] = [() => host.dispose()];
  const ops: Op[] = [];
  try {
    const vf = await env.component("vector-flat-v1");
    if (!vf) throw new Error("vector-flat-v1.wasm is missing: call overhead needs it");
    ops.push(...(await indexOps(env, vf, host, disposers, count)));
    const crdt = await env.component("crdt-v1");
    if (crdt) ops.push(await crdtOp(crdt, host, disposers, count));
    else env.log("  crdt-v1.wasm missing: no crdt.apply figures");
    const types = await env.component("types-v1");
    if (types) ops.push(await castOp(types, host, disposers, count));
    else env.log("  types-v1.wasm missing: no cast figures");

    const peers: { id: string; name: string; notes?: string; loop: Loop; samples: number[]; base: number[] }[] = [];
    for (const peer of env.peers ?? []) {
      try {
        const loop = (await peer.prepare()) as Loop;
        peers.push({ id: peer.id, name: peer.name, notes: peer.notes, loop, samples: [], base: [] });
      } catch (err) {
        env.log(`  peer ${peer.name} unavailable: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const trivial = ops[0] as Op;
    const nPeer = count(7_000);

    // Warm-up: every path JIT-compiled before timing.
    for (const op of ops) {
      await nsPerCall(op.n, op.raw);
      await nsPerCall(op.n, op.client);
      await nsPerCall(op.nAsync, op.host);
      if (op.clientSameWork) await nsPerCall(op.n, op.clientSameWork);
    }
    for (const p of peers) await nsPerCall(Math.max(1, nPeer >> 2), p.loop);

    const samples = new Map<string, { raw: number[]; client: number[]; host: number[]; same: number[] }>(
      ops.map((op) => [op.id, { raw: [], client: [], host: [], same: [] }]),
    );
    for (let r = 0; r < rounds; r++) {
      for (const op of ops) {
        const s = samples.get(op.id) as { raw: number[]; client: number[]; host: number[]; same: number[] };
        s.raw.push(await nsPerCall(op.n, op.raw));
        s.client.push(await nsPerCall(op.n, op.client));
        s.host.push(await nsPerCall(op.nAsync, op.host));
        if (op.clientSameWork) s.same.push(await nsPerCall(op.n, op.clientSameWork));
      }
      for (const p of peers) {
        p.base.push(await nsPerCall(trivial.n, trivial.raw));
        p.samples.push(await nsPerCall(nPeer, p.loop));
      }
      await tick();
    }
    for (const op of ops) await op.check?.();

    const figures: Figure[] = [];
    for (const op of ops) {
      const s = samples.get(op.id) as { raw: number[]; client: number[]; host: number[]; same: number[] };
      const rawName = `raw core export, ABI by hand: ${op.what}`;
      figures.push(
        figure({
          id: `call.${op.id}.client`,
          group: GROUP,
          name: `${op.what}: component client (sync) ÷ raw core export`,
          unit: "ns/call",
          samples: s.client,
          baseline: { name: rawName, samples: s.raw },
          goal: op.clientGoal ? { op: "<=", value: op.clientGoal, of: "ratio" } : undefined,
          notes: op.notes,
        }),
        figure({
          id: `call.${op.id}.host`,
          group: GROUP,
          name: `${op.what}: PluginHost resource (async, reload gate) ÷ raw core export`,
          unit: "ns/call",
          samples: s.host,
          baseline: { name: rawName, samples: s.raw },
          goal: op.hostGoal ? { op: "<=", value: op.hostGoal, of: "ratio" } : undefined,
          notes: op.hostGoal
            ? "the README's headline: what a PluginHost user pays per call; a miss is one promise + gate per call (issue #10)"
            : undefined,
        }),
        figure({
          id: `call.${op.id}.host-vs-client`,
          group: GROUP,
          name: `${op.what}: PluginHost resource ÷ component client`,
          unit: "ns/call",
          samples: s.host,
          baseline: {
            name: op.clientSameWork
              ? "component client + the same fromIPC the host does"
              : "component client, same call",
            samples: op.clientSameWork ? s.same : s.client,
          },
          goal: op.hostVsClientGoal ? { op: "<=", value: op.hostVsClientGoal, of: "ratio" } : undefined,
          notes: op.hostVsClientGoal ? "goal from issue #10" : undefined,
        }),
      );
    }
    for (const p of peers) {
      figures.push(
        figure({
          id: `call.peer.${p.id}`,
          group: GROUP,
          name: p.name,
          unit: "ns/call",
          samples: p.samples,
          baseline: { name: "raw core export `supports-filter` called directly", samples: p.base },
          notes: `peer, for comparison; no goal${p.notes ? `; ${p.notes}` : ""}`,
        }),
      );
    }
    return figures;
  } finally {
    for (const dispose of disposers.reverse()) dispose();
  }
}

async function instantiate(bytes: Uint8Array, id: string) {
  const module = await component.ComponentModule.compile(bytes);
  return await component.ComponentInstance.instantiate(module, { pluginId: id, grants: new Set() });
}

/** supports-filter and probe batch 1, on one tiny index per layer. */
async function indexOps(
  env: BenchEnv,
  bytes: Uint8Array,
  host: PluginHost,
  disposers: (() => void)[],
  count: (n: number) => number,
): Promise<Op[]> {
  const rows = 64;
  const dim = 64;
  const k = 10;
  const ids = sequentialIds(rows);
  const vectors = clusteredVectors(rows, dim, 1);
  const source = toIPC(indexSource(ids, vectors, dim));
  const instance = await instantiate(bytes, "bench.call.index");
  disposers.push(() => instance.dispose());
  const index = instance.index;
  if (!index) throw new Error("vector-flat-v1 exports no index interface");
  const handle = index.build("vector.flat", source, "{}");
  const raw = rawCore(instance);
  const rep = repOf(handle);
  await host.load(bytes);
  const live = await host.createIndex("call", "vector.flat", source);

  // Correctness first: every layer answers the same, and the probe returns what plain JS computes.
  const rawSupports = raw.supportsFilter(rep) !== 0;
  if (rawSupports !== handle.supportsFilter() || rawSupports !== (await live.supportsFilter()))
    throw new Error("raw, client and host disagree on supports-filter");
  const queryVector = clusteredVectors(1, dim, 2);
  const query = toIPC(queryTable(queryVector, dim));
  const want = new FlatIndexJs(ids, vectors, dim).probe(queryVector, k).id.join(",");
  for (const [layer, ipc] of [
    ["raw", raw.probe(rep, query, k)],
    ["client", handle.probe(query, k)],
    ["host", await live.probeIPC(query, k)],
  ] as const) {
    const got = [...(fromIPC(ipc).getChild("id")?.toArray() ?? [])].join(",");
    if (got !== want) throw new Error(`probe through the ${layer} layer returned ids ${got}, plain JS ${want}`);
  }
  env.log(`  probe batch 1 over ${rows} x ${dim}-d answers ${want.split(",").length} hits on every layer`);

  return [
    {
      id: "supports-filter",
      what: "index-handle.supports-filter (trivial export)",
      n: count(700_000),
      nAsync: count(70_000),
      raw: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += raw.supportsFilter(rep);
        return s;
      },
      client: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += handle.supportsFilter() ? 1 : 0;
        return s;
      },
      host: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (await live.supportsFilter()) ? 1 : 0;
        return s;
      },
      clientGoal: 1.5,
      hostGoal: 1.5,
      notes: "the goal of issue 7 (<= 1.5x a raw call) applies to the path users call: the host row",
    },
    {
      id: "probe-b1",
      what: `index probe, batch 1 (${rows} x ${dim}-d, k = ${k}, Arrow IPC in and out)`,
      n: count(3_000),
      nAsync: count(3_000),
      raw: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += raw.probe(rep, query, k).length;
        return s;
      },
      client: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += handle.probe(query, k).length;
        return s;
      },
      host: async (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (await live.probeIPC(query, k)).length;
        return s;
      },
      hostVsClientGoal: 1.25,
      notes: "LiveIndex.probeIPC vs IndexHandle.probe: the same bytes in and out",
    },
  ];
}

async function crdtOp(
  bytes: Uint8Array,
  host: PluginHost,
  disposers: (() => void)[],
  count: (n: number) => number,
): Promise<Op> {
  const kind = "pn-counter";
  const op = encode(["replica-a", 1]);
  const instance = await instantiate(bytes, "bench.call.crdt");
  disposers.push(() => instance.dispose());
  const crdt = instance.crdt;
  if (!crdt) throw new Error("crdt-v1 exports no crdt interface");
  const state = crdt.empty(kind);
  const raw = rawCore(instance);
  const rep = repOf(state);
  await host.load(bytes);
  const live = await host.createCrdt("call", kind);
  // Raw and client apply to one state, the host to its own: count what each got.
  let applied = 0;
  let hostApplied = 0;
  raw.apply(rep, op);
  state.apply(op);
  await live.apply(op);
  applied += 2;
  hostApplied += 1;
  const counterOf = (b: Uint8Array) => Number(decode(b));
  if (counterOf(state.value()) !== applied || Number(await live.value()) !== hostApplied)
    throw new Error("crdt apply: raw / client / host did not each add 1");
  return {
    id: "apply",
    what: "crdt-state.apply of one op (pn-counter)",
    n: count(20_000),
    nAsync: count(20_000),
    raw: (n) => {
      for (let i = 0; i < n; i++) raw.apply(rep, op);
      applied += n;
      return n;
    },
    client: (n) => {
      for (let i = 0; i < n; i++) state.apply(op);
      applied += n;
      return n;
    },
    host: async (n) => {
      for (let i = 0; i < n; i++) await live.apply(op);
      hostApplied += n;
      return n;
    },
    hostVsClientGoal: 1.25,
    check: async () => {
      const got = counterOf(state.value());
      const gotHost = Number(await live.value());
      if (got !== applied) throw new Error(`crdt apply (raw + client): value ${got}, expected ${applied}`);
      if (gotHost !== hostApplied) throw new Error(`crdt apply (host): value ${gotHost}, expected ${hostApplied}`);
    },
    notes: "LiveCrdt.apply(Uint8Array) vs CrdtState.apply: the same MessagePack bytes",
  };
}

async function castOp(
  bytes: Uint8Array,
  host: PluginHost,
  disposers: (() => void)[],
  count: (n: number) => number,
): Promise<Op> {
  const name = "geo.point";
  const instance = await instantiate(bytes, "bench.call.types");
  disposers.push(() => instance.dispose());
  const client = instance.logicalType;
  if (!client) throw new Error("types-v1 exports no logical-type interface");
  const literal = toIPC(new Table({ literal: vectorFromArray(["POINT(13.4 52.52)"], new Utf8()) }));
  const storage = client.fromLiteral(name, literal);
  const raw = rawCore(instance);
  const nameBytes = utf8.encode(name);
  const target = utf8.encode("Utf8");
  await host.load(bytes);
  const type = host.logicalType(name);
  const shown = (ipc: Uint8Array) => String(fromIPC(ipc).getChildAt(0)?.get(0));
  const want = shown(client.castTo(name, storage, "Utf8"));
  const viaHost = String((await type.castTo(storage, "Utf8")).getChildAt(0)?.get(0));
  if (shown(raw.castTo(nameBytes, storage, target)) !== want || viaHost !== want || !want.includes("13.4"))
    throw new Error(`cast-to: raw / client / host disagree (client shows ${want}, host ${viaHost})`);
  return {
    id: "cast",
    what: "logical-type cast-to Utf8 (geo.point, one value)",
    n: count(1_000),
    nAsync: count(1_000),
    raw: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += raw.castTo(nameBytes, storage, target).length;
      return s;
    },
    client: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += client.castTo(name, storage, "Utf8").length;
      return s;
    },
    host: async (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (await type.castTo(storage, "Utf8")).numRows;
      return s;
    },
    clientSameWork: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += fromIPC(client.castTo(name, storage, "Utf8")).numRows;
      return s;
    },
    notes: "LogicalType.castTo returns an Arrow Table: the host ÷ client ratio compares it with client + fromIPC",
  };
}
