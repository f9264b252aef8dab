// The fault-injection matrix: for every surface, a failure — a returned error, a real wasm trap in the
// new instance, a timeout — injected at every reload step before retire. Each case must roll back
// with nothing lost: the old version serves the same state, the new instance is disposed, and the
// plugin is not left stuck (a clean reload afterwards succeeds).
import { describe, expect, it } from "#test";
import { makeVector, Table } from "apache-arrow";
import {
  type CdcEmit,
  ErrorCode,
  PluginError,
  PluginHost,
  type PluginHandle,
  ReloadError,
  type ReloadContext,
  type StepName,
} from "../../src/mod.ts";
import type { ComponentInstance } from "../../src/component/mod.ts";
import type { WorkerInstance } from "../../src/worker/mod.ts";
import { eventually, workerFactory } from "../support/worker.ts";
import { expectContiguous, plugin, queryTable, refused, rowsOf, vectorTable } from "./reload-util.ts";

const STEPS: StepName[] = ["instantiate", "check-manifest", "check-compat", "quiesce", "handoff", "commit"];
const FAULTS = ["error", "trap", "timeout"] as const;
type Fault = (typeof FAULTS)[number];

/** 16 MiB: the host ceiling these cases run under. */
const CEILING_PAGES = 256;

/**
 * A real trap: ask the new instance to take an argument bigger than its memory ceiling allows. The
 * guest's allocator fails inside cabi_realloc and executes `unreachable`; the instance is poisoned.
 */
function trapIn(instance: ComponentInstance): void {
  const big = new Uint8Array(CEILING_PAGES * 65536 + 1);
  try {
    if (instance.crdt) instance.crdt.fromPersisted("g-counter", big);
    else if (instance.index) instance.index.open("vector.flat", big);
    else if (instance.logicalType) instance.logicalType.fromLiteral("uuid", big);
    else if (instance.cdc)
      instance.cdc.start("changelog", 0n).deliver({ lsnStart: 0n, lsnEnd: 1n, mutations: big, commitMicros: 0n });
  } catch (err) {
    expect((err as PluginError).code).to.equal(ErrorCode.Trap);
  }
  expect(instance.poisoned).to.equal(true);
}

/** Per surface: live state to create, and what a user can observe of it. */
interface Scenario {
  v1: string;
  v2: string;
  setup(host: PluginHost): Promise<() => Promise<unknown>>;
}

let row = 0n;
const batch = (n: number) => new Table({ row: makeVector(BigInt64Array.from({ length: n }, () => row++)) });

const SCENARIOS: Record<string, Scenario> = {
  index: {
    v1: "vector-flat-v1",
    v2: "vector-flat-v2",
    async setup(host) {
      const idx = await host.createIndex("docs", "vector.flat", vectorTable(120, 8, 11));
      const q = queryTable(3, 8, 12);
      return async () => ({ rows: rowsOf(await idx.probe(q, 4)), by: idx.servedBy });
    },
  },
  crdt: {
    v1: "crdt-v1",
    v2: "crdt-v2",
    async setup(host) {
      const likes = await host.createCrdt("likes", "pn-counter");
      const tags = await host.createCrdt("tags", "or-set");
      await likes.apply(["a", 5]);
      await likes.apply(["b", -2]);
      await tags.apply(["add", "x", "t1"]);
      return async () => ({ likes: await likes.value(), tags: await tags.value(), by: likes.servedBy });
    },
  },
  cdc: {
    v1: "changelog-v1",
    v2: "changelog-v2",
    async setup(host) {
      const live = await host.attachCdc("changes", "changelog", { checkpointEvery: 2 });
      const emits: CdcEmit[] = [];
      live.onEmit((e) => emits.push(e));
      for (let i = 0; i < 5; i++) await live.publish(batch(2));
      // Observing publishes one more batch: the stream must continue exactly where it was.
      return async () => {
        await live.publish(batch(1));
        await live.checkpoint();
        expectContiguous(emits, 0n, live.nextLsn);
        return { by: live.servedBy, retained: live.retainedBatches };
      };
    },
  },
  "logical-type": {
    v1: "types-v1",
    v2: "types-v2",
    async setup(host) {
      const geo = host.logicalType("geo.point");
      const stored = await geo.fromLiteral(["POINT(13.4 52.52)", "POINT(-73.99 40.73)"]);
      return async () => ({
        shown: await geo.toDisplay(stored),
        by: host.plugins()[0] && [host.plugins()[0]?.version, host.plugins()[0]?.generation],
      });
    },
  },
};

/** The same trap in a worker-hosted instance: its call rejects with the trap, and the instance is poisoned. */
async function trapInWorker(instance: WorkerInstance): Promise<void> {
  const big = new Uint8Array(CEILING_PAGES * 65536 + 1);
  try {
    if (instance.crdt) await instance.crdt.fromPersisted("g-counter", big);
    else if (instance.index) await instance.index.open("vector.flat", big);
    else if (instance.logicalType) await instance.logicalType.fromLiteral("uuid", big);
    else if (instance.cdc) {
      const stream = await instance.cdc.start("changelog", 0n);
      await stream.deliver({ lsnStart: 0n, lsnEnd: 1n, mutations: big, commitMicros: 0n });
    }
  } catch (err) {
    expect((err as PluginError).code).to.equal(ErrorCode.Trap);
  }
  expect(instance.poisoned).to.equal(true);
}

function inject(step: StepName, fault: Fault, seen: { next?: ReloadContext["next"] }) {
  return (at: StepName, ctx: ReloadContext): void | Promise<void> => {
    if (ctx.next) seen.next = ctx.next;
    if (at !== step) return;
    if (fault === "error") throw new PluginError(0x1ff, `injected error at ${step}`);
    if (fault === "timeout") return new Promise<void>(() => {}); // never settles: the step timeout fires
    if (!ctx.next) return;
    if (ctx.next.isolation === "worker") return trapInWorker(ctx.next.instance as WorkerInstance);
    trapIn(ctx.next.instance as ComponentInstance);
  };
}

// In-thread, every step and fault; worker-hosted, the same matrix (each case starts its own workers).
for (const isolation of ["thread", "worker"] as const) {
  for (const [surface, scenario] of Object.entries(SCENARIOS)) {
    describe(
      isolation === "thread" ? `reload fault matrix: ${surface}` : `reload fault matrix, worker-hosted: ${surface}`,
      () => {
        for (const step of STEPS) {
          for (const fault of FAULTS) {
            // A hook runs before its step's body; at "instantiate" no new instance exists yet to trap.
            // (Traps while instantiating — a trapping start function — are covered in component-instance.)
            if (fault === "trap" && step === "instantiate") continue;
            it(`${fault} at ${step} rolls back with nothing lost`, async () => {
              const host = new PluginHost({
                memoryPagesCeiling: CEILING_PAGES,
                onLog: () => {},
                isolation,
                ...(isolation === "worker" ? { workerFactory: await workerFactory() } : {}),
              });
              const handle: PluginHandle = await host.load(await plugin(scenario.v1));
              const observe = await scenario.setup(host);
              const before = await observe();
              const seen: { next?: ReloadContext["next"] } = {};

              const reloading = host.reload(handle, await plugin(scenario.v2), {
                beforeStep: inject(step, fault, seen),
                stepTimeoutMs: fault === "timeout" ? 250 : 10_000,
              });
              let err: PluginError;
              if (fault === "trap") {
                // A trap swallowed before a step that does not call into the new instance surfaces at the
                // first step that does (at the latest, commit's own check) — never after commit.
                const e = await reloading.then(
                  () => expect.fail("reload succeeded with a trapped new instance"),
                  (x: unknown) => x as PluginError & { step: StepName },
                );
                expect(e).to.be.instanceOf(ReloadError);
                expect(STEPS.indexOf(e.step), e.message).to.be.greaterThanOrEqual(STEPS.indexOf(step));
                expect(e.message).to.contain("trapped");
                err = e;
              } else {
                err = await refused(reloading, step);
              }
              if (fault === "timeout") expect(err.code).to.equal(ErrorCode.Timeout);
              expect(await observe()).to.deep.equal(before);
              const next = seen.next;
              if (next) expect(await eventually(() => next.instance.disposed)).to.equal(true);
              expect(host.plugins().map((p) => [p.version, p.generation])).to.deep.equal([
                ["1.0.0", handle.generation],
              ]);

              const ok = await host.reload(handle, await plugin(scenario.v2));
              expect(ok.to?.version).to.equal("2.0.0");
              const after = (await observe()) as { by?: unknown };
              const { by: _by, ...same } = before as { by?: unknown };
              const { by: _after, ...sameAfter } = after;
              expect(sameAfter).to.deep.equal(same);
              host.dispose();
            });
          }
        }
      },
    );
  }
}
