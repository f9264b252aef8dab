// The fleet's goals (issue #18), measured on real processes: three Deno and one Node (@deno/kv) fleet nodes sharing
// one local Deno KV file, as test/fleet/processes.test.ts runs them. Bundled and run by bench/fleet.mjs (and by
// `npm run bench`). Each round starts a fresh fleet and measures, in order:
//
// 1. rollout: crdt 1.0.0 → 2.0.0 on 4 nodes, from the operator's commit (the rollout record's startedAt) to the
//    last node serving 2.0.0 (its report, written as its reload returns), against 2 × one node's reload of the same plugin and state on the same store
//    in the same round (a separate host on node d2, ReloadReport.totalMs) + one polling interval (pollMaxMs: how
//    long an idle node may take to notice). Goal: rollout ≤ that bound.
// 2. CRDT convergence: after a burst of ops on every node, from the last acknowledgement to every node reading the
//    model's value (the driver polls the nodes). Goal ≤ 2 anti-entropy intervals.
// 3. CDC failover: kill -9 of the stream's owner while batches flow; from the kill to the first batch a new owner
//    writes to the sink. Goal ≤ lease TTL + 1 s, with 0 rows lost and 0 duplicated (checked over the whole round).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, type } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { denoKvStore } from "../src/adapters/deno-kv.ts";
import { FleetControl, storeQueue, storeSink } from "../src/fleet/mod.ts";
import { fromIPC, toIPC } from "../src/mod.ts";
import type { Config } from "../test/fleet/process/fleet-node.ts";
import { FleetProcess, repoRoot } from "../test/fleet/process/harness.ts";
import { rows } from "../test/fleet/util.ts";
import { summarize } from "./core/stats.ts";

const smoke = process.argv.includes("--smoke");
const ROUNDS = smoke ? 1 : 5;
const CONFIG: Config = {
  heartbeatMs: 200,
  nodeTtlMs: 1200,
  antiEntropyMs: 250,
  leaseTtlMs: 2000,
  pollMinMs: 10,
  pollMaxMs: 250,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const component = async (name: string) =>
  new Uint8Array(await readFile(join(repoRoot, "plugins-wasm/dist", `${name}.wasm`)));

async function until<T>(what: string, check: () => Promise<T> | T, timeoutMs: number): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Round {
  reloadMs: number;
  /** Milliseconds from the rollout's start to the canary's barrier, the last member's, and the decision. */
  phases: { canaryPrepared: number; lastPrepared: number; decided: number; markedDone: number };
  nodes: Record<string, { servedAt: number; prepareMs: number; commitStepMs: number }>;
  rolloutMs: number;
  rolloutBoundMs: number;
  convergenceMs: number;
  failoverMs: number;
  lost: number;
  duplicated: number;
  load: number;
}

async function round(r: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), "uni-fleet-bench-"));
  const kvPath = join(dir, "fleet.kv");
  const store = denoKvStore(await openKv(kvPath), { closeKv: true });
  const control = new FleetControl(store, { nodeTtlMs: 3000 });
  const procs: FleetProcess[] = [];
  let producing = true;
  try {
    for (const name of ["crdt-v1", "changelog-v1"]) await control.rollout(await component(name));
    procs.push(
      ...(await Promise.all([
        FleetProcess.start("deno", "d1", kvPath, dir, CONFIG),
        FleetProcess.start("deno", "d2", kvPath, dir, CONFIG),
        FleetProcess.start("deno", "d3", kvPath, dir, CONFIG),
        FleetProcess.start("node", "n1", kvPath, dir, CONFIG),
      ])),
    );
    let hits = 0;
    let n = 0;
    const burst = async (perNode: number) => {
      await Promise.all(
        procs
          .filter((p) => p.alive)
          .map(async (p) => {
            for (let i = 0; i < perNode; i++) {
              await p.op("hits", [p.id, 1]);
              await p.op("tags", ["add", `e${++n}`, `t${n}`]);
              hits++;
            }
          }),
      );
    };
    await burst(25);
    const source = storeQueue(store, ["src", "changes"]);
    const sink = storeSink(store, ["sink", "changes"]);
    let appended = 0;
    const producer = (async () => {
      while (producing) {
        await source.append(toIPC(rows(appended, 5)));
        appended += 5;
        await sleep(20);
      }
    })();
    await until("the stream delivering", async () => (await sink.position()) > 0n, 30_000);

    // 1. one node's reload, then the 4-node rollout of the same change
    const baseline = await (procs[1] as FleetProcess).request(
      { from: "crdt-v1", to: "crdt-v2", ops: 50 },
      "reloadAlone",
    );
    const reloadMs = baseline.totalMs as number;
    const { rollout } = await control.rollout(await component("crdt-v2"), { canary: "d1" });
    const done = await control.wait("dev.uni.crdt", rollout as string, { timeoutMs: 60_000, pollMs: 10 });
    if (done.phase !== "done") throw new Error(`rollout ${done.phase}: ${done.reason}`);
    // Complete once the last node serves 2.0.0: its report is written as soon as its reload returns (the record's
    // endedAt comes one contended compare-and-set later, when the last node marks it done).
    const reports = await control.reports("dev.uni.crdt", rollout as string);
    // Per node: when it served 2.0.0, how long its reload took up to the barrier, and its commit step (the wait at
    // the barrier and the store commit of the version switch).
    const nodes: Round["nodes"] = {};
    for (const x of reports) {
      const steps = (x.report as { steps?: { step: string; ms: number }[] } | undefined)?.steps ?? [];
      const before = steps.filter((st) => !["commit", "retire"].includes(st.step)).reduce((a, st) => a + st.ms, 0);
      nodes[x.node] = {
        servedAt: x.at - done.startedAt,
        prepareMs: before,
        commitStepMs: steps.find((st) => st.step === "commit")?.ms ?? Number.NaN,
      };
    }
    const rolloutMs = Math.max(...reports.filter((x) => x.stage === "committed").map((x) => x.at)) - done.startedAt;
    const phases = {
      canaryPrepared: (done.prepared[0]?.at ?? Number.NaN) - done.startedAt,
      lastPrepared: Math.max(...done.prepared.map((p) => p.at)) - done.startedAt,
      decided: (done.decidedAt as number) - done.startedAt,
      markedDone: (done.endedAt as number) - done.startedAt,
    };

    // 2. CRDT convergence after a burst on every node
    await burst(10);
    const lastAck = performance.now();
    await until(
      "CRDT convergence",
      async () => {
        const statuses = await Promise.all(procs.map((p) => p.status()));
        return statuses.every((s) => s.values.hits === hits && s.values.tags.length === n);
      },
      30_000,
    );
    const convergenceMs = performance.now() - lastAck;

    // 3. CDC failover
    const owner = await until(
      "an owner",
      async () => (await control.status()).streams.find((s) => s.name === "changes")?.owner,
      10_000,
    );
    const victim = procs.find((p) => p.id === owner) as FleetProcess;
    const before = await sink.position();
    await until("batches flowing", async () => (await sink.position()) > before + 10n, 10_000);
    const killedAt = Date.now();
    await victim.kill();
    const next = await until(
      "a new owner delivering",
      async () => (await sink.batches()).find((b) => b.node !== owner && b.at > killedAt),
      30_000,
    );
    const failoverMs = next.at - killedAt;
    await sleep(500);
    producing = false;
    await producer;
    await until("every row delivered", async () => (await sink.position()) === BigInt(appended), 30_000);
    const ids = (await sink.batches()).flatMap((b) =>
      [...(fromIPC(b.payload).getChild("row")?.toArray() ?? [])].map(Number),
    );
    const seen = new Set(ids);
    const lost = Array.from({ length: appended }, (_, i) => i).filter((i) => !seen.has(i)).length;
    const duplicated = ids.length - seen.size;
    const result = {
      reloadMs,
      phases,
      nodes,
      rolloutMs,
      rolloutBoundMs: 2 * reloadMs + CONFIG.pollMaxMs,
      convergenceMs,
      failoverMs,
      lost,
      duplicated,
      load: loadavg()[0] as number,
    };
    console.log(
      `round ${r + 1}/${ROUNDS}: ${JSON.stringify(result, (_k, v) => (typeof v === "number" ? Math.round(v * 10) / 10 : v))}`,
    );
    return result;
  } finally {
    producing = false;
    await Promise.all(procs.map((p) => (p.alive ? p.kill() : undefined)));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const results: Round[] = [];
for (let r = 0; r < ROUNDS; r++) results.push(await round(r));

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const line = (s: ReturnType<typeof summarize>) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
const figure = (name: string, values: number[], goal: string, bound?: number[] | number) => {
  const s = summarize(values);
  if (bound === undefined) {
    return { name, goal, median: s.median, min: s.min, max: s.max, text: `${line(s)} ms (no goal)` };
  }
  const bounds = Array.isArray(bound) ? bound : values.map(() => bound);
  const met = values.filter((v, i) => v <= (bounds[i] as number)).length;
  const b = summarize(bounds);
  return {
    name,
    goal,
    median: s.median,
    min: s.min,
    max: s.max,
    bound: b.median,
    met: s.median <= b.median,
    roundsMet: `${met}/${values.length}`,
    // A smoke run (one round, busy moment or not) is no result: it gives no verdict.
    text: smoke
      ? `${line(s)} ms (smoke: no verdict)`
      : `${line(s)} ms, bound ${fmt(b.median)} ms: ${s.median <= b.median ? "met" : "MISSED"} (${met}/${values.length} rounds)`,
  };
};
const figures = [
  figure(
    "4-node rollout (crdt 1.0.0 → 2.0.0): operator's commit → last node serving 2.0.0",
    results.map((x) => x.rolloutMs),
    "<= 2 × one node's reload + one polling interval",
    results.map((x) => x.rolloutBoundMs),
  ),
  figure(
    "one node's reload of the same (ReloadReport.totalMs)",
    results.map((x) => x.reloadMs),
    "the baseline of the first",
  ),
  figure(
    "CRDT convergence after the last acknowledged write",
    results.map((x) => x.convergenceMs),
    "<= 2 anti-entropy intervals",
    2 * CONFIG.antiEntropyMs,
  ),
  figure(
    "CDC failover: kill -9 of the owner → first batch from the new owner",
    results.map((x) => x.failoverMs),
    "<= lease TTL + 1 s",
    CONFIG.leaseTtlMs + 1000,
  ),
];
const lost = results.reduce((a, x) => a + x.lost, 0);
const duplicated = results.reduce((a, x) => a + x.duplicated, 0);
console.log(`\nfleet bench (${ROUNDS} round${ROUNDS > 1 ? "s" : ""}; config ${JSON.stringify(CONFIG)})`);
for (const f of figures) console.log(`  ${f.name} [${f.goal}]: ${f.text}`);
console.log(`  CDC rows lost / duplicated over all rounds [0 / 0]: ${lost} / ${duplicated}`);
if (lost || duplicated) {
  console.error("fleet bench: rows were lost or duplicated");
  process.exitCode = 1;
}
if (!smoke) {
  const out = {
    runtime: "fleet: 3 × Deno + 1 × Node (@deno/kv) on one local Deno KV file",
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, os: `${type()} ${release()}` },
    config: CONFIG,
    rounds: results,
    figures: figures.map(({ text: _t, ...f }) => f),
    cdc: { lost, duplicated },
  };
  const dir = process.env.BENCH_RESULTS_DIR ?? join(repoRoot, "bench", "results");
  await writeFile(join(dir, "fleet.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${join(dir, "fleet.json")}`);
}
