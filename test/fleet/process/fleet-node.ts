// One fleet node as a child process, the same code under Deno (deno-node.ts) and Node (node-node.ts), for
// fleet-processes.test.ts. It joins the fleet in a shared Deno KV file, replicates two CRDT states, competes for
// the CDC stream "changes" (a store queue as source, a store sink), and answers commands on stdin, one JSON object
// per line; it writes one JSON object per line on stdout: {ready}, {ack}, {reply}, {event}.
//   {"op": n, "crdt": "hits"|"tags", "value": [...]}  applies an op; answers {"ack": n} once it is durable
//   {"status": n}                                       answers {"reply": n, "status": NodeStatus, "values": {...}}
//   {"createIndex": n, "name", "rows", "dim", "seed"}   builds a vector.flat index here (published to the fleet)
//   {"probe": n, "name", "dim", "seed"}                 answers {"reply": n, "rows": [...]} (5 queries, k = 5)
//   {"reloadAlone": n, "from", "to", "ops"}             the baseline of bench/fleet.ts: a separate host on the same
//                                                       store loads `from`, applies `ops` ops to two states, reloads
//                                                       to `to`; answers {"reply": n, "totalMs"} (ReloadReport)
//   {"stop": n}                                         leaves the fleet cleanly and exits
import { Field, FixedSizeList, Float32, makeData, makeVector, Table } from "apache-arrow";
import { FleetNode, nodeNamespace, pollNotifier, storeQueue, storeSink } from "../../../src/fleet/mod.ts";
import { PluginHost } from "../../../src/mod.ts";
import type { StateStore } from "../../../src/store/types.ts";

export interface Runtime {
  name: string;
  openStore(path: string): Promise<StateStore>;
  lines(): AsyncIterable<string>;
  /** Reads a committed component, e.g. `crdt-v1`. */
  component(name: string): Promise<Uint8Array>;
  exit(code: number): void;
}

export interface Config {
  heartbeatMs: number;
  nodeTtlMs: number;
  antiEntropyMs: number;
  leaseTtlMs: number;
  pollMinMs: number;
  pollMaxMs: number;
}

const say = (x: unknown) => console.log(JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vectors(rows: number, dim: number, seed: number, ids: boolean): Table {
  const next = rng(seed);
  const values = Float32Array.from({ length: rows * dim }, () => next() * 2 - 1);
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const vector = makeVector(makeData({ type, length: rows, nullCount: 0, child }));
  return ids
    ? new Table({ id: makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i))), vector })
    : new Table({ vector });
}

export async function main(rt: Runtime, id: string, path: string, config: Config): Promise<void> {
  const store = await rt.openStore(path);
  const host = new PluginHost({ onLog: () => {}, store, namespace: nodeNamespace(id) });
  const node = new FleetNode({
    host,
    store,
    nodeId: id,
    runtime: rt.name,
    heartbeatMs: config.heartbeatMs,
    nodeTtlMs: config.nodeTtlMs,
    antiEntropyMs: config.antiEntropyMs,
    notify: pollNotifier({ minMs: config.pollMinMs, maxMs: config.pollMaxMs }),
    onEvent: (event) => say({ event, at: Date.now() }),
  });
  await node.start();
  const hits = await node.crdt("hits", "pn-counter");
  const tags = await node.crdt("tags", "or-set");
  await node.stream("changes", {
    output: "changelog",
    source: storeQueue(store, ["src", "changes"]),
    sink: storeSink(store, ["sink", "changes"]),
    leaseTtlMs: config.leaseTtlMs,
    checkpointMs: 200,
  });
  say({ ready: id, incarnation: node.incarnation });
  for await (const line of rt.lines()) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as Record<string, unknown>;
    void (async () => {
      try {
        if (typeof cmd.op === "number") {
          await (cmd.crdt === "tags" ? tags : hits).apply(cmd.value);
          say({ ack: cmd.op });
        } else if (typeof cmd.status === "number") {
          const values = { hits: await host.crdt("hits")?.value(), tags: await host.crdt("tags")?.value() };
          say({ reply: cmd.status, status: node.status(), values });
        } else if (typeof cmd.createIndex === "number") {
          const { name, rows, dim, seed } = cmd as { name: string; rows: number; dim: number; seed: number };
          await node.createIndex(name, "vector.flat", vectors(rows, dim, seed, true), { metric: "l2" });
          say({ reply: cmd.createIndex });
        } else if (typeof cmd.probe === "number") {
          const { name, dim, seed } = cmd as { name: string; dim: number; seed: number };
          const index = host.index(name);
          const hitsTable = index ? await index.probe(vectors(5, dim, seed, false), 5) : undefined;
          say({ reply: cmd.probe, rows: hitsTable?.toArray().map((r) => r.toJSON()) ?? null });
        } else if (typeof cmd.reloadAlone === "number") {
          const { from, to, ops } = cmd as { from: string; to: string; ops: number };
          const alone = new PluginHost({ onLog: () => {}, store, namespace: `baseline-${id}-${cmd.reloadAlone}` });
          try {
            const handle = await alone.load(await rt.component(from));
            const h = await alone.createCrdt("hits", "pn-counter");
            const t = await alone.createCrdt("tags", "or-set");
            for (let i = 0; i < ops; i++) await (i % 2 ? h.apply([id, 1]) : t.apply(["add", `e${i}`, `t${i}`]));
            const report = await alone.reload(handle, await rt.component(to));
            say({ reply: cmd.reloadAlone, totalMs: report.totalMs });
          } finally {
            alone.dispose();
          }
        } else if (typeof cmd.stop === "number") {
          await node.stop();
          host.dispose();
          await store.close();
          say({ reply: cmd.stop });
          rt.exit(0);
        }
      } catch (err) {
        say({ failed: cmd, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  }
}
