// Node-only (child processes, SIGKILL): a fleet of three Deno processes and one Node process (@deno/kv) sharing one
// local Deno KV file, driven by this test through the same file (FleetControl, the source queue, the sink) and the
// nodes' stdin. Under continuous load — CRDT ops on every node, change batches into the CDC source — it rolls out
// incompatible versions (the fleet stays on 1.0.0), then 1.0.0 → 2.0.0 with a member killed mid-rollout, then
// kills the stream's owner mid-stream. At the end: one version everywhere (in memory and in each node's own
// records), CRDT values equal on every node and equal to a model of every acknowledged op, every source row in the
// sink exactly once, and a node joining afterwards opens the index from the fleet's snapshot.
//
// Timing is reported, not asserted (goals live in `npm run bench`); the bounds below only keep a hang from eating CI.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { readPlugin as readHostPlugin } from "../../src/durable/records.ts";
import { FleetControl, nodeNamespace, type Rollout, storeQueue, storeSink } from "../../src/fleet/mod.ts";
import { fromIPC, toIPC } from "../../src/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import type { Config } from "./process/fleet-node.ts";
import { FleetProcess, repoRoot } from "./process/harness.ts";
import { rows } from "./util.ts";

const CONFIG: Config = {
  heartbeatMs: 200,
  nodeTtlMs: 1200,
  antiEntropyMs: 200,
  leaseTtlMs: 2500,
  pollMinMs: 20,
  pollMaxMs: 250,
};
const CRDT = "dev.uni.crdt";
const CHANGELOG = "dev.uni.changelog";
const component = (name: string) => readFile(join(repoRoot, "plugins-wasm/dist", `${name}.wasm`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T> | T, timeoutMs: number): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await sleep(50);
  }
}

/** CRDT ops on every node, one outstanding per node; the model counts an op once it is acknowledged. */
class Load {
  hits = 0;
  readonly tags = new Set<string>();
  acked = 0;
  #n = 0;
  #loops = new Map<string, Promise<void>>();
  #paused = new Set<string>();
  #on = true;

  run(p: FleetProcess): void {
    this.#paused.delete(p.id);
    const loop = async () => {
      while (this.#on && !this.#paused.has(p.id) && p.alive) {
        const n = ++this.#n;
        try {
          if (n % 2 === 0) {
            const delta = (n % 7) - 3 || 4;
            await p.op("hits", [p.id, delta]);
            this.hits += delta;
          } else {
            await p.op("tags", ["add", `e${n}`, `t${n}`]);
            this.tags.add(`e${n}`);
          }
          this.acked++;
        } catch (err) {
          if (p.alive) throw err;
          return;
        }
        await sleep(5);
      }
    };
    this.#loops.set(p.id, loop());
  }

  /** Stops sending to `id` and waits for its outstanding op: a kill then leaves no op of unknown fate. */
  async drain(id: string): Promise<void> {
    this.#paused.add(id);
    await this.#loops.get(id);
  }

  async stop(): Promise<void> {
    this.#on = false;
    await Promise.all(this.#loops.values());
  }
}

describe("a fleet of 3 Deno processes and 1 Node process on one Deno KV file", () => {
  let dir: string;
  let kvPath: string;
  let store: StateStore;
  let control: FleetControl;
  const procs = new Map<string, FleetProcess>();
  const load = new Load();
  let appendedRows = 0;
  let producing = true;
  let producer: Promise<void>;
  const timings: Record<string, number> = {};

  const start = async (runtime: "deno" | "node", id: string) => {
    const p = await FleetProcess.start(runtime, id, kvPath, dir, CONFIG);
    procs.set(id, p);
    return p;
  };
  const live = () => [...procs.values()].filter((p) => p.alive);
  const servingAll = async (id: string) => Promise.all(live().map(async (p) => (await p.status()).status.plugins[id]));
  const streamOwner = async () => (await control.status()).streams.find((s) => s.name === "changes")?.owner;
  // The bound within which every live node must have converged (the wait fails with Timeout past it).
  const ROLLOUT_BOUND_MS = 30_000;
  const waitRollout = (plugin: string, id: string) => control.wait(plugin, id, { timeoutMs: ROLLOUT_BOUND_MS });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-fleet-procs-"));
    kvPath = join(dir, "fleet.kv");
    store = denoKvStore(await openKv(kvPath), { closeKv: true });
    control = new FleetControl(store, { nodeTtlMs: 3000 });
    for (const name of ["crdt-v1", "changelog-v1", "vector-flat-v1"]) {
      expect((await control.rollout(await component(name))).installed).to.equal(true);
    }
    await Promise.all([start("deno", "d1"), start("deno", "d2"), start("deno", "d3"), start("node", "n1")]);
    for (const p of procs.values()) load.run(p);
    const source = storeQueue(store, ["src", "changes"]);
    producer = (async () => {
      while (producing) {
        await source.append(toIPC(rows(appendedRows, 5)));
        appendedRows += 5;
        await sleep(25);
      }
    })();
    await (procs.get("d1") as FleetProcess).request({ name: "docs", rows: 300, dim: 32, seed: 7 }, "createIndex");
    await until(
      "the stream delivering",
      async () => (await storeSink(store, ["sink", "changes"]).position()) > 0n,
      30_000,
    );
  }, 120_000);

  afterAll(async () => {
    producing = false;
    await producer?.catch(() => {});
    await load.stop().catch(() => {});
    await Promise.all([...procs.values()].map((p) => (p.alive ? p.kill() : undefined)));
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    console.log(`fleet timings (ms, informative): ${JSON.stringify(timings)}`);
  }, 60_000);

  it("refuses a CRDT version that cannot read the live states: every node stays on 1.0.0", async () => {
    const before = await servingAll(CRDT);
    const { rollout } = await control.rollout(await component("crdt-v2-incompatible"), { canary: "d2" });
    const r = await waitRollout(CRDT, rollout as string);
    expect(r.phase).to.equal("reverted");
    expect(["d1", "d2", "d3", "n1"]).to.include(r.refusedBy); // the canary, or another member's dry run
    expect(r.reason).to.match(/at check-compat/);
    expect(r.prepared).to.deep.equal([]);
    expect(r.committed).to.deep.equal([]);
    expect(await servingAll(CRDT)).to.deep.equal(before);
    expect((await control.plugin(CRDT))?.desired.version).to.equal("1.0.0");
  }, 90_000);

  it("refuses an output version only the stream's owner cannot take: the prepared canary rolls back too", async () => {
    const owner = await until("an owner", streamOwner, 10_000);
    const canary = ["d1", "d2", "d3", "n1"].find((id) => id !== owner) as string;
    const before = await servingAll(CHANGELOG);
    const { rollout } = await control.rollout(await component("changelog-v2-incompatible"), { canary });
    const r = await waitRollout(CHANGELOG, rollout as string);
    expect(r.phase).to.equal("reverted");
    // The node delivering the stream refused (on a loaded machine the lease may have moved since it was read).
    const refuser = r.refusedBy as string;
    expect(refuser).to.not.equal(canary);
    if (refuser !== owner) console.log(`the stream moved from ${owner} to ${refuser} before the rollout reached it`);
    expect(r.reason).to.match(/at handoff: .*incompatible/);
    expect(r.prepared.map((p) => p.node)).to.include(canary);
    const reports = await control.reports(CHANGELOG, rollout as string);
    expect(reports.find((x) => x.node === refuser)).to.deep.include({ stage: "refused" });
    expect(reports.find((x) => x.node === refuser)?.error?.step).to.equal("handoff");
    expect(
      await until(
        "the canary's report",
        async () => {
          const all = await control.reports(CHANGELOG, rollout as string);
          return all.find((x) => x.node === canary && x.stage === "aborted");
        },
        10_000,
      ),
    ).to.include({ ok: false });
    expect(await servingAll(CHANGELOG)).to.deep.equal(before);
  }, 90_000);

  it("rolls crdt 1.0.0 → 2.0.0 out under load; a member killed mid-rollout rejoins on 2.0.0", async () => {
    const owner = await streamOwner();
    const victim = ["d3", "d2", "n1", "d1"].find((id) => id !== owner && id !== "d1") as string;
    // The victim's own load stops first (its outstanding op acknowledged), so the kill below lands at once; the
    // other nodes stay under load throughout.
    await load.drain(victim);
    const t0 = performance.now();
    const { rollout } = await control.rollout(await component("crdt-v2"), { canary: "d1" });
    // Mid-rollout: as soon as the canary has prepared, the victim dies.
    await until(
      "the canary prepared",
      async () => {
        const r = (await control.plugin(CRDT))?.rollout;
        return r !== undefined && r.id === rollout && r.phase !== "canary";
      },
      30_000,
    );
    const before = (await control.plugin(CRDT))?.rollout;
    await (procs.get(victim) as FleetProcess).kill();
    const stage = before?.committed.includes(victim)
      ? "had committed" // a busy machine can let a member get that far before the kill lands
      : before?.prepared.some((p) => p.node === victim)
        ? "had prepared"
        : "had not prepared";
    const r: Rollout = await waitRollout(CRDT, rollout as string);
    timings.crdtRolloutWithKill = performance.now() - t0;
    expect(r.phase).to.equal("done");
    expect(r.members.sort()).to.deep.equal(["d1", "d2", "d3", "n1"]);
    // Every member still alive committed; the victim only if it got there before it died.
    const survivors = ["d1", "d2", "d3", "n1"].filter((x) => x !== victim);
    expect(r.committed.filter((x) => x !== victim).sort()).to.deep.equal(survivors);
    if (stage !== "had committed") expect(r.committed).to.not.include(victim);
    expect(r.prepared[0]?.node).to.equal("d1");
    console.log(`victim ${victim} ${stage} when killed`);
    for (const s of await servingAll(CRDT)) expect(s?.version).to.equal("2.0.0");
    // Back with the same identity: its host restores 1.0.0 and its acknowledged ops, then it converges.
    const t1 = performance.now();
    const back = await start(victim === "n1" ? "node" : "deno", victim);
    timings.restartToConverged = performance.now() - t1;
    expect((await back.status()).status.plugins[CRDT]?.version).to.equal("2.0.0");
    load.run(back);
    const reports = await control.reports(CRDT, rollout as string);
    for (const id of ["d1", "d2", "d3", "n1"].filter((x) => x !== victim)) {
      const rep = reports.find((x) => x.node === id);
      expect(rep?.stage, id).to.equal("committed");
      expect((rep?.report as { to?: { version: string } } | undefined)?.to?.version).to.equal("2.0.0");
    }
  }, 120_000);

  it("rolls changelog 1.0.0 → 2.0.0 out while the stream delivers; its owner is killed at the commit barrier", async () => {
    const sink = storeSink(store, ["sink", "changes"]);
    const owner = (await until("an owner", streamOwner, 10_000)) as string;
    const canary = ["d1", "d2", "d3", "n1"].find((id) => id !== owner) as string;
    const t0 = performance.now();
    const { rollout } = await control.rollout(await component("changelog-v2"), { canary });
    // The owner has handed its live stream to 2.0.0 (staged) and waits for the fleet's decision: kill it there.
    await until(
      "the owner prepared",
      async () => {
        const r = (await control.plugin(CHANGELOG))?.rollout;
        if (!r || r.id !== rollout) return false;
        return r.prepared.some((p) => p.node === owner) || r.phase === "done";
      },
      30_000,
    );
    await load.drain(owner);
    const killedAt = Date.now();
    await (procs.get(owner) as FleetProcess).kill();
    const r = await waitRollout(CHANGELOG, rollout as string);
    timings.changelogRolloutWithOwnerKill = performance.now() - t0;
    expect(r.phase).to.equal("done");
    for (const s of await servingAll(CHANGELOG)) expect(s?.version).to.equal("2.0.0");
    const next = await until(
      "another node delivering",
      async () => (await sink.batches()).find((b) => b.node !== owner && b.at > killedAt),
      30_000,
    );
    timings.failoverAtBarrier = next.at - killedAt;
    const back = await start(owner === "n1" ? "node" : "deno", owner);
    expect((await back.status()).status.plugins[CHANGELOG]?.version).to.equal("2.0.0");
    load.run(back);
  }, 90_000);

  it("moves the stream when its owner is killed mid-stream", async () => {
    const sink = storeSink(store, ["sink", "changes"]);
    const owner = (await until("an owner", streamOwner, 10_000)) as string;
    const before = await sink.position();
    await until("batches flowing", async () => (await sink.position()) > before + 20n, 20_000);
    await load.drain(owner);
    const killedAt = Date.now();
    await (procs.get(owner) as FleetProcess).kill();
    const next = await until(
      "another node delivering",
      async () => (await sink.batches()).find((b) => b.node !== owner && b.at > killedAt),
      30_000,
    );
    timings.failover = next.at - killedAt;
    console.log(`stream moved from ${owner} to ${next.node} (token ${next.token}) in ${next.at - killedAt} ms`);
    const back = await start(owner === "n1" ? "node" : "deno", owner);
    load.run(back);
  }, 90_000);

  it("ends converged: one version everywhere, equal CRDT values matching the model, every row once", async () => {
    producing = false;
    await producer;
    await load.stop();
    const sink = storeSink(store, ["sink", "changes"]);
    await until("every row delivered", async () => (await sink.position()) === BigInt(appendedRows), 60_000);
    const lastAck = performance.now();
    await until(
      "CRDT values equal everywhere and to the model",
      async () => {
        for (const p of live()) {
          const { values } = await p.status();
          if (values.hits !== load.hits || (values.tags ?? []).length !== load.tags.size) return false;
        }
        return true;
      },
      30_000,
    );
    timings.crdtConvergedAfterLoad = performance.now() - lastAck;
    for (const p of live()) {
      const { status, values } = await p.status();
      expect(values.hits, p.id).to.equal(load.hits);
      expect([...values.tags].sort(), p.id).to.deep.equal([...load.tags].sort());
      // No node half-upgraded: what it serves, what its own records say, and the fleet's stable version agree.
      expect(status.diverged, p.id).to.deep.equal({});
      for (const id of [CRDT, CHANGELOG]) {
        const serving = status.plugins[id];
        expect(serving?.version, `${p.id} ${id}`).to.equal("2.0.0");
        const key = ["uni", nodeNamespace(p.id), "plugin", id];
        const own = readHostPlugin(key, (await store.get(key))?.value as Uint8Array);
        expect([own.version, own.generation], `${p.id} ${id} in its records`).to.deep.equal([
          serving?.version,
          serving?.generation,
        ]);
      }
    }
    for (const id of [CRDT, CHANGELOG]) expect((await control.plugin(id))?.stable.version).to.equal("2.0.0");
    // Exactly once, across two rollouts and a failover: contiguous LSNs, and the rows 0..n each once.
    const batches = await sink.batches();
    let at = 0n;
    for (const b of batches) {
      expect(b.lsnStart, `batch [${b.lsnStart}, ${b.lsnEnd})`).to.equal(at);
      at = b.lsnEnd;
    }
    const ids = batches.flatMap((b) => [...(fromIPC(b.payload).getChild("row")?.toArray() ?? [])].map(Number));
    expect(ids.length).to.equal(appendedRows);
    expect(ids).to.deep.equal(Array.from({ length: appendedRows }, (_, i) => i));
    expect(new Set(batches.map((b) => b.node)).size).to.be.greaterThan(1);
    console.log(`load: ${load.acked} CRDT ops acknowledged, ${appendedRows} rows in ${batches.length} sink batches`);
  }, 120_000);

  it("a node joining afterwards serves 2.0.0, merges the CRDT states and opens the index from the snapshot", async () => {
    const joiner = await start("deno", "d4");
    const { status } = await joiner.status();
    expect(status.plugins[CRDT]?.version).to.equal("2.0.0");
    expect(status.indexes.open).to.deep.equal(["docs"]);
    const probe = { name: "docs", dim: 32, seed: 11 };
    const mine = (await joiner.request(probe, "probe")).rows;
    const theirs = (await (procs.get("d1") as FleetProcess).request(probe, "probe")).rows;
    expect(mine).to.be.an("array").with.length(25);
    expect(mine).to.deep.equal(theirs);
    await until(
      "the joiner's CRDT values",
      async () => {
        const { values } = await joiner.status();
        return values.hits === load.hits && values.tags.length === load.tags.size;
      },
      20_000,
    );
    for (const p of live()) expect(p.failures, p.id).to.deep.equal([]);
  }, 60_000);
});
