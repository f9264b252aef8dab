/**
 * 4. Index probe: `vector.flat` over the demo-shaped 100k x 64-d vectors
 * (./data.ts `clusteredVectors`), k = 10, query batches of 1 and 256, through
 * the API users call (`LiveIndex.probe`: an Arrow Table in, a Table out, the
 * host's Arrow IPC encode/decode included). Queries/s of the wasm plugin (v1
 * scalar, v2 simd128), same round, against:
 *
 *   plain JS   ./flat-js.ts: the same exact algorithm written as a good JS engineer would
 *              (four queries per read of a row, tiles, a top-k heap); must return the plugin's hits
 *   hnswlib    hnswlib-wasm 0.8.2, an index users install for in-browser vector search:
 *              its brute-force mode as the exact peer (same N), and HNSW as the approximate
 *              peer at a smaller N (its build of 100k takes minutes), with recall@10 stated
 *
 * Plus the share of the host-side Arrow IPC crossing in a batch's probe.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, type LiveIndex, PluginHost, toIPC } from "../../src/mod.ts";
import { clusteredVectors, indexSource, queryTable, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { type FlatHits, FlatIndexJs } from "./flat-js.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, ComponentName, Figure, HnswlibModule } from "./types.ts";

const K = 10;
const GROUP = "4. index probe";
/** HNSW parameters (hnswlib's usual defaults for M; efSearch 64 as in /work/shared/reference/toolchain.md). */
const HNSW = { m: 16, efConstruction: 100, efSearch: 64, seed: 100 };

interface Plugin {
  name: ComponentName;
  live: LiveIndex;
  host: PluginHost;
}

type Bf = InstanceType<HnswlibModule["BruteforceSearch"]>;

export async function probe(env: BenchEnv): Promise<Figure[]> {
  const rows = env.smoke ? 2_000 : 100_000;
  const dim = env.smoke ? 16 : 64;
  const batches = [1, env.smoke ? 8 : 256];
  const rounds = env.smoke ? 1 : 5;
  const ids = sequentialIds(rows);
  const vectors = clusteredVectors(rows, dim, 11);
  const source = toIPC(indexSource(ids, vectors, dim));
  const js = new FlatIndexJs(ids, vectors, dim);

  const plugins: Plugin[] = [];
  try {
    for (const name of ["vector-flat-v1", "vector-flat-v2"] as const) {
      const bytes = await env.component(name);
      if (!bytes) continue;
      const host = new PluginHost({ onLog: () => {} });
      plugins.push({ name, host, live: await loadIndex(host, bytes, source) });
    }
    if (!plugins.length) throw new Error("no vector-flat component is built");
    const hnsw = await loadHnswlib(env);
    let bf: Bf | undefined;
    let bfBuildMs = 0;
    if (hnsw) {
      const t0 = now();
      bf = new hnsw.BruteforceSearch("l2", dim);
      bf.initIndex(rows);
      for (let r = 0; r < rows; r++) bf.addPoint(vectors.subarray(r * dim, (r + 1) * dim), r);
      bfBuildMs = now() - t0;
    }

    const figures: Figure[] = [];
    for (const batch of batches) {
      const queries = clusteredVectors(batch, dim, 1000 + batch);
      const table = queryTable(queries, dim);
      // Correctness first: every plugin and the exact peer return what plain JS returns.
      const expected = js.probe(queries, K);
      for (const p of plugins) sameHits(p.name, expected, await p.live.probe(table, K));
      if (bf) sameHits("hnswlib brute force", expected, bfHits(bf, queries, dim, batch));

      // Batch 1 is fast: repeat it so one timing lasts long enough.
      const reps = batch === 1 ? (env.smoke ? 3 : 30) : 1;
      const jsQps: number[] = [];
      const bfQps: number[] = [];
      const qps = new Map<string, number[]>(plugins.map((p) => [p.name, []]));
      const crossing: number[] = [];
      for (let r = 0; r < rounds + 1; r++) {
        let t0 = now();
        for (let i = 0; i < reps; i++) js.probe(queries, K);
        const jsRound = (batch * reps) / ((now() - t0) / 1000);
        const pluginRound: number[] = [];
        for (const p of plugins) {
          t0 = now();
          for (let i = 0; i < reps; i++) await p.live.probe(table, K);
          pluginRound.push((batch * reps) / ((now() - t0) / 1000));
        }
        let bfRound = 0;
        if (bf) {
          t0 = now();
          for (let i = 0; i < reps; i++) bfHits(bf, queries, dim, batch);
          bfRound = (batch * reps) / ((now() - t0) / 1000);
        }
        // Host-side crossing (v1): Table → IPC, the call, IPC → Table.
        const first = (plugins[0] as Plugin).live;
        let codec = 0;
        let call = 0;
        for (let i = 0; i < reps; i++) {
          const a = now();
          const bytes = toIPC(table);
          const b = now();
          const out = await first.probeIPC(bytes, K);
          const c = now();
          fromIPC(out).getChild("id")?.toArray();
          const d = now();
          codec += b - a + (d - c);
          call += c - b;
        }
        if (r === 0) continue; // warm-up round
        jsQps.push(jsRound);
        for (const [i, p] of plugins.entries()) qps.get(p.name)?.push(pluginRound[i] as number);
        if (bf) bfQps.push(bfRound);
        crossing.push(codec / (codec + call));
        await tick();
      }
      for (const p of plugins) {
        const tag = p.name.replace("vector-flat-", "");
        figures.push(
          figure({
            id: `probe.${tag}.b${batch}`,
            group: GROUP,
            name: `${p.name} probe, batch ${batch}, ${rows} x ${dim}-d, k = ${K} ÷ plain JS`,
            unit: "queries/s",
            samples: qps.get(p.name) as number[],
            baseline: { name: "the same exact algorithm in plain JS, blocked (bench/core/flat-js.ts)", samples: jsQps },
            goal: { op: ">=", value: 1, of: "ratio" },
            notes: "plugin through LiveIndex.probe (Table in, Table out); plain JS on Float32Arrays, no Arrow",
          }),
        );
        if (bf) {
          figures.push(
            figure({
              id: `probe.${tag}.b${batch}.hnswlib-bf`,
              group: GROUP,
              name: `${p.name} probe, batch ${batch} ÷ hnswlib-wasm brute force (exact peer)`,
              unit: "queries/s",
              samples: qps.get(p.name) as number[],
              baseline: { name: "hnswlib-wasm 0.8.2 BruteforceSearch, one searchKnn per query", samples: bfQps },
              notes: `no goal; ratio > 1: the plugin is faster. hnswlib's build of ${rows} points: ${bfBuildMs.toFixed(0)} ms`,
            }),
          );
        }
      }
      figures.push(
        figure({
          id: `probe.crossing.b${batch}`,
          group: GROUP,
          name: `host-side Arrow IPC share of a Table → Table probe, batch ${batch}`,
          unit: "share",
          samples: crossing,
          notes: "(toIPC(query) + fromIPC(result)) ÷ (those + the plugin call), vector-flat-v1; no goal",
        }),
      );
    }
    if (hnsw) figures.push(...(await approximatePeer(env, hnsw, plugins[plugins.length - 1] as Plugin, dim)));
    return figures;
  } finally {
    for (const p of plugins) p.host.dispose();
  }
}

async function loadIndex(host: PluginHost, bytes: Uint8Array, source: Uint8Array): Promise<LiveIndex> {
  await host.load(bytes);
  return await host.createIndex("probe", "vector.flat", source);
}

async function loadHnswlib(env: BenchEnv): Promise<HnswlibModule | undefined> {
  if (!env.hnswlib) {
    env.skip?.("index-probe.hnswlib", "hnswlib-wasm is not wired up in this runtime");
    return undefined;
  }
  try {
    return await env.hnswlib();
  } catch (err) {
    const reason = `hnswlib-wasm 0.8.2 does not load here: ${err instanceof Error ? err.message : String(err)}`;
    env.log(`  ${reason}`);
    env.skip?.("index-probe.hnswlib", reason);
    return undefined;
  }
}

function bfHits(bf: Bf, queries: Float32Array, dim: number, batch: number): FlatHits {
  const out: FlatHits = {
    query: new Int32Array(batch * K),
    id: new BigInt64Array(batch * K),
    distance: new Float32Array(batch * K),
  };
  for (let q = 0; q < batch; q++) {
    const { distances, neighbors } = bf.searchKnn(queries.subarray(q * dim, (q + 1) * dim), K, undefined);
    // hnswlib returns nearest first; the order by (distance, id) is restored for near-ties below.
    for (let i = 0; i < neighbors.length; i++) {
      out.query[q * K + i] = q;
      out.id[q * K + i] = BigInt(neighbors[i] as number);
      out.distance[q * K + i] = distances[i] as number;
    }
  }
  return out;
}

/**
 * HNSW (approximate) at a smaller N, against the plugin's exact probe at the
 * same N, batch 1 (HNSW answers one query at a time), with recall@10.
 */
async function approximatePeer(env: BenchEnv, hnsw: HnswlibModule, plugin: Plugin, dim: number): Promise<Figure[]> {
  const rows = env.smoke ? 1_000 : 20_000;
  const nq = env.smoke ? 20 : 200;
  const rounds = env.smoke ? 1 : 5;
  const vectors = clusteredVectors(rows, dim, 13);
  const ids = sequentialIds(rows);
  const t0 = now();
  const index = new hnsw.HierarchicalNSW("l2", dim, "");
  index.initIndex(rows, HNSW.m, HNSW.efConstruction, HNSW.seed);
  for (let r = 0; r < rows; r++) index.addPoint(vectors.subarray(r * dim, (r + 1) * dim), r, false);
  index.setEfSearch(HNSW.efSearch);
  const buildMs = now() - t0;
  const live = await plugin.host.createIndex("probe-small", "vector.flat", indexSource(ids, vectors, dim));
  try {
    const queries = clusteredVectors(nq, dim, 77);
    const exact = new FlatIndexJs(ids, vectors, dim).probe(queries, K);
    // The plugin is exact: it must agree with plain JS here too.
    sameHits(plugin.name, exact, await live.probe(queryTable(queries, dim), K));
    let found = 0;
    for (let q = 0; q < nq; q++) {
      const want = new Set<bigint>(exact.id.subarray(q * K, (q + 1) * K));
      for (const n of index.searchKnn(queries.subarray(q * dim, (q + 1) * dim), K, undefined).neighbors) {
        if (want.has(BigInt(n))) found++;
      }
    }
    const recall = found / (nq * K);
    const one = Array.from({ length: nq }, (_, q) => queryTable(queries.subarray(q * dim, (q + 1) * dim), dim));
    const hnswQps: number[] = [];
    const pluginQps: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      let a = now();
      for (let q = 0; q < nq; q++) index.searchKnn(queries.subarray(q * dim, (q + 1) * dim), K, undefined);
      const h = nq / ((now() - a) / 1000);
      a = now();
      for (const table of one) await live.probe(table, K);
      const p = nq / ((now() - a) / 1000);
      if (r === 0) continue;
      hnswQps.push(h);
      pluginQps.push(p);
      await tick();
    }
    const params = `M ${HNSW.m}, efConstruction ${HNSW.efConstruction}, efSearch ${HNSW.efSearch}`;
    return [
      figure({
        id: "probe.hnsw.qps",
        group: GROUP,
        name: `hnswlib-wasm HNSW (approximate), batch 1, ${rows} x ${dim}-d, k = ${K} ÷ ${plugin.name} (exact) at the same N`,
        unit: "queries/s",
        samples: hnswQps,
        baseline: { name: `${plugin.name} through LiveIndex.probe, batch 1, same ${rows} rows`, samples: pluginQps },
        notes:
          `peer, no goal; recall@10 of HNSW ${recall.toFixed(3)} (${params}); its build of ${rows} points took ` +
          `${(buildMs / 1000).toFixed(1)} s, so N is ${rows}, not 100k (~142 s build; /work/shared/reference/toolchain.md)`,
      }),
      figure({
        id: "probe.hnsw.recall",
        group: GROUP,
        name: `hnswlib-wasm HNSW recall@10 against the exact answer, ${rows} x ${dim}-d (${params})`,
        unit: "recall@10",
        samples: [recall],
        notes: `over ${nq} queries; the plugin's vector.flat is exact (recall 1 by construction, checked against plain JS)`,
      }),
    ];
  } finally {
    await live.drop();
  }
}

/** A probe result table's ids and distances. */
function tableHits(t: Table): Pick<FlatHits, "id" | "distance"> {
  const id = t.getChild("id")?.toArray() as BigInt64Array | undefined;
  const distance = t.getChild("distance")?.toArray() as Float32Array | undefined;
  if (!id || !distance)
    throw new Error(`probe result has no id/distance columns (schema ${t.schema.fields.join(", ")})`);
  return { id, distance };
}

/** Hits must be the plain-JS hits: same ids per rank, distances within float rounding. */
function sameHits(name: string, want: FlatHits, result: Table | FlatHits): void {
  const got = "numRows" in result ? tableHits(result) : result;
  if (got.id.length !== want.id.length) {
    throw new Error(`${name}: probe returned ${got.id.length} hits, plain JS ${want.id.length}`);
  }
  let mismatched = 0;
  for (let i = 0; i < got.id.length; i++) {
    const w = want.distance[i] as number;
    const d = got.distance[i] as number;
    if (Math.abs(d - w) > 1e-4 * Math.max(1, w)) throw new Error(`${name}: hit ${i} has distance ${d}, plain JS ${w}`);
    if (got.id[i] !== want.id[i]) mismatched++;
  }
  // Near-ties may swap between f32 (guest, hnswlib) and f64 (JS) accumulation; anything more is a bug.
  if (mismatched > Math.max(1, got.id.length / 100)) {
    throw new Error(`${name}: ${mismatched} of ${got.id.length} hits differ from plain JS`);
  }
}
