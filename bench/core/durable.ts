/**
 * 7. Durable state (issue #13), each figure beside its baseline in the same round:
 *
 *   crdt throughput  `LiveCrdt.apply` (pn-counter, one op) by C concurrent callers, each awaiting its op before the
 *                    next, for a fixed time: a host on the runtime's durable store in journal durability (every op
 *                    resolves once journaled, group-committed) ÷ the same host without a store. Goal (issue #13)
 *                    ≥ 0.75x at C = 256.
 *   write latency    the same op arriving open-loop at a fixed rate (latency from the scheduled arrival, so time
 *                    spent queued behind a commit counts): p99 in journal durability on the file store. Goal
 *                    p99 ≤ 5 ms (the fs adapter: Node).
 *   cdc delivery     publish throughput with an asynchronous sink ÷ with a synchronous one (issue #14, ≥ 0.8x).
 *   restore          a 64 MiB `vector.flat` index: `new PluginHost({ store })` until `restored` resolves (records
 *                    listed, the plugin vetted from its stored bytes, the snapshot blob read and checked, one
 *                    `open`) ÷ reading the blob from the same store plus one `open` on a bare instance. Goal ≤ 1.5x.
 *
 * Every figure checks its answer first: the durable counter's value after a round equals the ops acknowledged, the
 * restored index answers a probe exactly as before.
 *
 * @module
 */
import { makeVector, Table } from "apache-arrow";
import { component, type LiveCrdt, PluginHost, toIPC } from "../../src/mod.ts";
import type { StoreObserver } from "../../src/store/types.ts";
import { clusteredVectors, indexSource, MiB, queryTable, rowsForBytes, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { openLoop, sleep } from "./open-loop.ts";
import { now, quantile, tick } from "./stats.ts";
import { Unavailable } from "./suite.ts";
import type { BenchEnv, DurableStore, Figure } from "./types.ts";

const GROUP = "7. durable state";

async function durableStore(env: BenchEnv, name: string, observer?: StoreObserver): Promise<DurableStore> {
  if (!env.durableStore) throw new Unavailable("this runtime supplies no durable store");
  return env.durableStore(name, observer);
}

/** `callers` loops of awaited applies for `ms`; resolves ops per second and the ops done. */
async function applyLoop(crdt: LiveCrdt, callers: number, ms: number): Promise<{ perSec: number; ops: number }> {
  let ops = 0;
  const until = now() + ms;
  const t0 = now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      const op = [`r${c % 16}`, 1];
      while (now() < until) {
        await crdt.apply(op);
        ops++;
      }
    }),
  );
  return { perSec: (ops * 1000) / (now() - t0), ops };
}

export async function crdtThroughput(env: BenchEnv): Promise<Figure[]> {
  const bytes = await env.component("crdt-v1");
  if (!bytes) throw new Error("crdt-v1.wasm is missing");
  const rounds = env.smoke ? 1 : 7;
  const ms = env.smoke ? 60 : 600;
  const callerCounts = env.smoke ? [16] : [1, 16, 256, 4096];
  const figures: Figure[] = [];
  for (const callers of callerCounts) {
    const plain: number[] = [];
    const journal: number[] = [];
    const opsPerCommit: number[] = [];
    const commitMs: number[] = [];
    let label = "";
    for (let r = 0; r < rounds; r++) {
      // Baseline: no store.
      const a = new PluginHost({ onLog: () => {} });
      await a.load(bytes);
      const ca = await a.createCrdt("c", "pn-counter");
      await applyLoop(ca, callers, ms / 6); // warm-up
      plain.push((await applyLoop(ca, callers, ms)).perSec);
      a.dispose();
      await tick();
      // Journal durability on the runtime's store, fresh each round.
      let commits = 0;
      const ds = await durableStore(env, `crdt-${callers}-${r}`, {
        onCommit: (e) => {
          if (!e.ok) return;
          commits++;
          commitMs.push(e.ms);
        },
      });
      label = ds.label;
      const b = new PluginHost({ onLog: () => {}, store: ds.store });
      await b.restored;
      await b.load(bytes);
      const cb = await b.createCrdt("c", "pn-counter");
      const warm = await applyLoop(cb, callers, ms / 6);
      const c0 = commits;
      const run = await applyLoop(cb, callers, ms);
      journal.push(run.perSec);
      opsPerCommit.push(run.ops / Math.max(1, commits - c0));
      const value = Number(await cb.value());
      if (value !== warm.ops + run.ops)
        throw new Error(`durable counter at ${value}, ${warm.ops + run.ops} acknowledged`);
      b.dispose();
      await ds.close();
      await tick();
    }
    const sorted = [...opsPerCommit].sort((x, y) => x - y);
    figures.push(
      figure({
        id: `durable.crdt-apply.${callers}`,
        group: GROUP,
        name: `crdt-state.apply (pn-counter) by ${callers} concurrent caller(s), journal durability on ${label}`,
        unit: "ops/s",
        samples: journal,
        baseline: { name: "the same host without a store (durability none)", samples: plain },
        ...(callers === 256 ? { goal: { op: ">=", value: 0.75, of: "ratio" } as const } : {}),
        notes:
          `each caller awaits its op before the next; ${ms} ms per run; median ${sorted[sorted.length >> 1]?.toFixed(1)} ` +
          `ops per store commit (group commit); a store commit (write + fsync) took ${quantile(commitMs, 0.5).toFixed(2)} ms ` +
          `p50, ${quantile(commitMs, 0.99).toFixed(2)} ms p99: with every caller waiting on it, throughput is at most ` +
          "callers ÷ commit latency" +
          (callers === 256 ? "" : "; goal judged at 256 callers"),
      }),
    );
  }
  return figures;
}

export async function writeLatency(env: BenchEnv): Promise<Figure[]> {
  const bytes = await env.component("crdt-v1");
  if (!bytes) throw new Error("crdt-v1.wasm is missing");
  const rounds = env.smoke ? 1 : 5;
  const seconds = env.smoke ? 0.3 : 3;
  const rate = 2000;
  const durable: number[] = [];
  const plain: number[] = [];
  const p50s: number[] = [];
  const maxes: number[] = [];
  const commitMs: number[] = [];
  let label = "";
  for (let r = 0; r < rounds; r++) {
    const a = new PluginHost({ onLog: () => {} });
    await a.load(bytes);
    const ca = await a.createCrdt("c", "pn-counter");
    const la = openLoop(rate, () => ca.apply(["r", 1]));
    await sleep(seconds * 1000);
    const ra = await la.stop();
    plain.push(quantile(ra.latencies, 0.99));
    a.dispose();
    await tick();

    const ds = await durableStore(env, `latency-${r}`, {
      onCommit: (e) => {
        if (e.ok) commitMs.push(e.ms);
      },
    });
    label = ds.label;
    const b = new PluginHost({ onLog: () => {}, store: ds.store });
    await b.restored;
    await b.load(bytes);
    const cb = await b.createCrdt("c", "pn-counter");
    const lb = openLoop(rate, () => cb.apply(["r", 1]));
    await sleep(seconds * 1000);
    const rb = await lb.stop();
    if (rb.failures) throw new Error(`${rb.failures} durable applies failed`);
    const value = Number(await cb.value());
    if (value !== rb.latencies.length)
      throw new Error(`durable counter at ${value}, ${rb.latencies.length} acknowledged`);
    durable.push(quantile(rb.latencies, 0.99));
    p50s.push(quantile(rb.latencies, 0.5));
    maxes.push(Math.max(...rb.latencies));
    b.dispose();
    await ds.close();
    await tick();
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
  return [
    figure({
      id: "durable.write-latency.p99",
      group: GROUP,
      name: `a write's durable latency, p99: crdt-state.apply arriving open-loop at ${rate}/s, journal durability on ${label}`,
      unit: "ms",
      samples: durable,
      baseline: { name: "p99 of the same open loop without a store", samples: plain },
      ...(env.runtime === "node" ? { goal: { op: "<=", value: 5, of: "ms" } as const } : {}),
      notes:
        `${seconds} s per run, latency from each op's scheduled arrival to its durable acknowledgement; ` +
        `median p50 ${med(p50s).toFixed(2)} ms, median max ${med(maxes).toFixed(1)} ms; the store's commits (write + ` +
        `fsync) took ${quantile(commitMs, 0.5).toFixed(2)} ms p50, ${quantile(commitMs, 0.99).toFixed(2)} ms p99` +
        (env.runtime === "node" ? "" : "; the ≤ 5 ms goal is the fs adapter's (Node)"),
    }),
  ];
}

export async function restore64(env: BenchEnv): Promise<Figure[]> {
  const bytes = await env.component("vector-flat-v1");
  if (!bytes) throw new Error("vector-flat-v1.wasm is missing");
  const size = env.smoke ? 1 * MiB : 64 * MiB;
  const rounds = env.smoke ? 1 : 5;
  const dim = 64;
  const rows = rowsForBytes(size, dim);
  const vectors = clusteredVectors(rows, dim, 11);
  const query = queryTable(clusteredVectors(2, dim, 12), dim);
  const ds = await durableStore(env, "restore");
  const figures: Figure[] = [];
  try {
    // Build once and keep it: the store holds the plugin, the index record and its snapshot blob.
    const first = new PluginHost({ onLog: () => {}, store: ds.store });
    await first.restored;
    await first.load(bytes);
    const built = await first.createIndex("big", "vector.flat", indexSource(sequentialIds(rows), vectors, dim));
    const digest = (t: { toArray(): { toJSON(): object }[] }) =>
      JSON.stringify(
        t.toArray().map((r) => r.toJSON()),
        (_, v) => (typeof v === "bigint" ? String(v) : v),
      );
    const want = digest(await built.probe(query, 10));
    const persistedBytes = (await built.persist()).length;
    await first.flush();
    first.dispose();
    let blobId: string | undefined;
    for await (const e of ds.store.list({ prefix: ["uni", "host", "res", "index"] })) blobId = e.blobs[0];
    if (!blobId) throw new Error("the index snapshot is not a blob");

    const restoreMs: number[] = [];
    const floorMs: number[] = [];
    const readMs: number[] = [];
    const module = await component.ComponentModule.compile(bytes);
    for (let r = 0; r < rounds + 1; r++) {
      // Floor: read the bytes from the store (checked), then one open, into a fresh instance's memory as a
      // restore's is (instantiated before the clock starts: the restore's own instantiation counts against it).
      const instance = await component.ComponentInstance.instantiate(module, {
        pluginId: "bench.restore",
        grants: new Set(),
      });
      env.gc();
      await tick();
      let t0 = now();
      const blob = await ds.store.getBlob(blobId);
      const read = now() - t0;
      const handle = (instance.index as component.IndexClient).open("vector.flat", blob);
      const floor = now() - t0;
      handle.drop();
      instance.dispose();
      env.gc();
      await tick();
      // A restore: a new host on the store.
      t0 = now();
      const host = new PluginHost({ onLog: () => {}, store: ds.store });
      const report = await host.restored;
      const restored = now() - t0;
      if (report.quarantined.length || report.resources.length !== 1) {
        throw new Error(`restore: ${JSON.stringify(report)}`);
      }
      const got = digest(await (host.index("big") as NonNullable<ReturnType<PluginHost["index"]>>).probe(query, 10));
      if (got !== want) throw new Error("the restored index probes differently");
      host.dispose();
      if (r > 0) {
        restoreMs.push(restored);
        floorMs.push(floor);
        readMs.push(read);
      }
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
    const label = `${(persistedBytes / MiB).toFixed(0)} MiB`;
    figures.push(
      figure({
        id: "durable.restore.64MiB",
        group: GROUP,
        name: `restore of a ${label} vector.flat index from ${ds.label}: new PluginHost({ store }) until restored`,
        unit: "ms",
        samples: restoreMs,
        baseline: {
          name: "reading its snapshot blob from the store (checked) + one open into a fresh instance",
          samples: floorMs,
        },
        goal: { op: "<=", value: 1.5, of: "ratio" },
        notes:
          `reading the blob alone: median ${med(readMs).toFixed(1)} ms; the restore also lists the records, reads and ` +
          "vets the plugin's stored component (its compile is cached after the first round) and writes nothing",
      }),
    );
  } finally {
    await ds.close();
  }
  return figures;
}

/**
 * CDC acknowledged delivery (issue #14): one publisher awaiting each `publish` of an 8-row batch, the stream's
 * output (changelog v1) handing each batch on to one sink: synchronous (acknowledges by returning), asynchronous
 * (acknowledges by resolving, a microtask later), and asynchronous with `retain.maxBatches: 4` (publish waits for
 * the sink once 4 batches are unacknowledged). Each ÷ the synchronous sink in the same round. Goal ≥ 0.8x. Also,
 * without a goal: the asynchronous sink on a durable host (journal durability: each publish resolves once its
 * batch is in the store, and the sink gets a batch only once it is).
 */
export async function cdcDelivery(env: BenchEnv): Promise<Figure[]> {
  const bytes = await env.component("changelog-v1");
  if (!bytes) throw new Error("changelog-v1.wasm is missing");
  const rounds = env.smoke ? 1 : 7;
  const ms = env.smoke ? 60 : 500;
  const batch = toIPC(new Table({ id: makeVector(BigInt64Array.from({ length: 8 }, (_, i) => BigInt(i))) }));
  type Variant = "sync" | "async" | "async-retain4" | "async-journal";
  const variants: Variant[] = ["sync", "async", "async-retain4", "async-journal"];
  const perSec = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  let label = "";
  const run = async (variant: Variant, r: number) => {
    const ds = variant === "async-journal" ? await durableStore(env, `cdc-${r}`) : undefined;
    if (ds) label = ds.label;
    const host = new PluginHost({ onLog: () => {}, ...(ds ? { store: ds.store } : {}) });
    await host.restored;
    await host.load(bytes);
    const stream = await host.attachCdc(
      "s",
      "changelog",
      variant === "async-retain4" ? { retain: { maxBatches: 4 } } : {},
    );
    let next = 0n;
    const check = (e: { lsnStart: bigint; lsnEnd: bigint }) => {
      if (e.lsnStart !== next)
        throw new Error(`${variant}: the sink got [${e.lsnStart}, ${e.lsnEnd}), expected ${next}`);
      next = e.lsnEnd;
    };
    stream.onEmit(variant === "sync" ? (e) => void check(e) : async (e) => check(e));
    const loop = async (forMs: number) => {
      let n = 0;
      const t0 = now();
      while (now() - t0 < forMs) {
        await stream.publish(batch);
        n++;
      }
      return (n * 1000) / (now() - t0);
    };
    await loop(forMs / 5);
    const rate = await loop(forMs);
    await stream.checkpoint();
    await stream.delivered();
    if (next !== stream.nextLsn) throw new Error(`${variant}: the sink is at ${next}, the stream at ${stream.nextLsn}`);
    host.dispose();
    await ds?.close();
    await tick();
    return rate;
  };
  const forMs = ms;
  for (let r = 0; r < rounds; r++) {
    // The order rotates from round to round, so drift and warm-up hit every variant alike.
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(r + k) % variants.length] as Variant;
      (perSec.get(v) as number[]).push(await run(v, r));
    }
  }
  const sync = perSec.get("sync") as number[];
  const text: Record<Variant, string> = {
    sync: "",
    async: "an asynchronous sink (acknowledges a microtask later)",
    "async-retain4": "an asynchronous sink, retain.maxBatches 4 (publish waits while 4 batches are unacknowledged)",
    "async-journal": `an asynchronous sink on a durable host (journal durability, ${label})`,
  };
  return (["async", "async-retain4", "async-journal"] as const).map((v) =>
    figure({
      id: `durable.cdc-delivery.${v}`,
      group: GROUP,
      name: `CDC publish throughput (8-row batches, changelog v1), ${text[v]}`,
      unit: "publishes/s",
      samples: perSec.get(v) as number[],
      baseline: { name: "the same loop with a synchronous sink (acknowledges by returning)", samples: sync },
      ...(v === "async-journal" ? {} : { goal: { op: ">=", value: 0.8, of: "ratio" } as const }),
      notes:
        `one publisher awaiting each publish, ${forMs} ms per run; the sink checks it gets every LSN once, in order` +
        (v === "async-journal" ? "; no goal: each publish waits for a durable store commit" : ""),
    }),
  );
}
