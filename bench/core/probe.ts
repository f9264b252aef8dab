/**
 * 4. Index probe: `vector.flat` over 100k x 64-d vectors, k = 10, query
 * batches of 1 and 256. Queries/s of the wasm plugin (v1 scalar, v2 simd128)
 * ÷ the same algorithm in plain TypeScript (./flat-ts.ts), same data, same
 * round. Plus the share of the host-side Arrow IPC crossing (query encode +
 * result decode) in a full `Table → Table` probe.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import type { IndexHandle } from "../../src/component/mod.ts";
import { indexSource, queryTable, randomVectors, sequentialIds } from "./data.ts";
import { FlatIndexTs, type FlatHits } from "./flat-ts.ts";
import { figure } from "./figure.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, ComponentName, Figure } from "./types.ts";

const K = 10;

export async function probe(env: BenchEnv): Promise<Figure[]> {
  const rows = env.smoke ? 2_000 : 100_000;
  const dim = env.smoke ? 16 : 64;
  const batches = [1, env.smoke ? 8 : 256];
  const rounds = env.smoke ? 1 : 5;
  const ids = sequentialIds(rows);
  const vectors = randomVectors(rows, dim, 11);
  const source = toIPC(indexSource(ids, vectors, dim));
  const ts = new FlatIndexTs(ids, vectors, dim);

  const plugins: { name: ComponentName; handle: IndexHandle; dispose: () => void }[] = [];
  for (const name of ["vector-flat-v1", "vector-flat-v2"] as const) {
    const bytes = await env.component(name);
    if (!bytes) continue;
    const instance = await ComponentInstance.instantiate(await ComponentModule.compile(bytes), {
      pluginId: `bench.${name}`,
      grants: new Set(),
    });
    const handle = (instance.index as NonNullable<typeof instance.index>).build("vector.flat", source, "{}");
    plugins.push({ name, handle, dispose: () => instance.dispose() });
  }
  if (!plugins.length) throw new Error("no vector-flat component is built");

  const figures: Figure[] = [];
  for (const batch of batches) {
    const queries = randomVectors(batch, dim, 1000 + batch);
    const table = queryTable(queries, dim);
    const ipc = toIPC(table);
    // Correctness first: every plugin must return what the TS baseline returns.
    const expected = ts.probe(queries, K);
    for (const p of plugins) sameHits(p.name, expected, fromIPC(p.handle.probe(ipc, K)));

    // Batch 1 is fast: repeat it so a round lasts long enough to time.
    const reps = batch === 1 ? (env.smoke ? 5 : 40) : 1;
    const tsSamples: number[] = [];
    const wasmSamples = new Map<string, number[]>(plugins.map((p) => [p.name, []]));
    const crossing: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      let t0 = now();
      for (let i = 0; i < reps; i++) ts.probe(queries, K);
      const tsQps = (batch * reps) / ((now() - t0) / 1000);
      for (const p of plugins) {
        t0 = now();
        for (let i = 0; i < reps; i++) p.handle.probe(ipc, K);
        const qps = (batch * reps) / ((now() - t0) / 1000);
        if (r > 0) wasmSamples.get(p.name)?.push(qps);
      }
      // Host-side crossing: Table → IPC, the call, IPC → Table (v1 plugin).
      const first = plugins[0] as (typeof plugins)[number];
      let enc = 0;
      let call = 0;
      let dec = 0;
      for (let i = 0; i < reps; i++) {
        const a = now();
        const bytes = toIPC(table);
        const b = now();
        const out = first.handle.probe(bytes, K);
        const c = now();
        fromIPC(out).getChild("id")?.toArray();
        const d = now();
        enc += b - a;
        call += c - b;
        dec += d - c;
      }
      if (r > 0) {
        tsSamples.push(tsQps);
        crossing.push((enc + dec) / (enc + call + dec));
      }
      await tick();
    }
    for (const p of plugins) {
      figures.push(
        figure({
          id: `probe.${p.name.replace("vector-flat-", "")}.b${batch}`,
          group: "4. index probe",
          name: `${p.name} probe, batch ${batch}, ${rows} x ${dim}-d, k = ${K}`,
          unit: "queries/s",
          samples: wasmSamples.get(p.name) as number[],
          baseline: { name: "the same exact algorithm in plain TypeScript", samples: tsSamples },
          goal: { op: ">=", value: 1, of: "ratio" },
          notes: "plugin time includes its own Arrow IPC read/write of the query and result",
        }),
      );
    }
    figures.push(
      figure({
        id: `probe.crossing.b${batch}`,
        group: "4. index probe",
        name: `host-side Arrow IPC crossing share of a Table → Table probe, batch ${batch}`,
        unit: "share",
        samples: crossing,
        notes: "(toIPC(query) + fromIPC(result)) ÷ (those + the plugin call); no goal set",
      }),
    );
  }
  for (const p of plugins) {
    p.handle.drop();
    p.dispose();
  }
  return figures;
}

/** Plugin hits must be the TS hits: same ids per rank, distances within float rounding. */
function sameHits(name: string, want: FlatHits, got: Table): void {
  const ids = got.getChild("id")?.toArray() as BigInt64Array | undefined;
  const dist = got.getChild("distance")?.toArray() as Float32Array | undefined;
  if (!ids || !dist || ids.length !== want.id.length) {
    throw new Error(`${name}: probe returned ${ids?.length ?? "no"} rows, the TS baseline ${want.id.length}`);
  }
  let mismatched = 0;
  for (let i = 0; i < ids.length; i++) {
    const close =
      Math.abs((dist[i] as number) - (want.distance[i] as number)) <= 1e-4 * Math.max(1, want.distance[i] as number);
    if (!close) throw new Error(`${name}: hit ${i} has distance ${dist[i]}, the TS baseline ${want.distance[i]}`);
    if (ids[i] !== want.id[i]) mismatched++;
  }
  // Near-ties may swap between f32 (guest) and f64 (TS) accumulation; anything more is a bug.
  if (mismatched > Math.max(1, ids.length / 100)) {
    throw new Error(`${name}: ${mismatched} of ${ids.length} hits differ from the TS baseline`);
  }
}
