// Runaway plugins (test/fixtures/wat/hostile.wat, hostile-manifest.wat): an infinite loop in a call of every
// surface, in manifest(), in persist; a memory bomb; a host-log flood. Each shows the deadline firing: the call
// rejects with DeadlineExceeded (and so does the call queued behind it), the worker is terminated, onDeath
// runs, later calls are refused at once, and other instances — in-thread and in another worker — answer.
// The bound asserted is generous (deadline + 1 s, a shared machine); the precise goal is the benchmark's.
// Deno 2.9 cannot end a worker stuck in a loop (see endsStuckWorkers in test/support/worker.ts): there the
// runaways are finite (seconds long, far past the deadline), and everything else is asserted the same.
import { encode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, TrapError } from "../../src/errors.ts";
import type { WorkerDeath, WorkerInstance } from "../../src/worker/mod.ts";
import { expectPluginError } from "../support/errors.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import {
  boundRunaways,
  channels,
  endsStuckWorkers,
  eventually,
  spawnWorker,
  terminated,
  timed,
} from "../support/worker.ts";

const DEADLINE = 250;
const SLACK = 1000;
const CEILING = 64;

type Remote = WorkerInstance;
type Index = NonNullable<Remote["index"]>;
type Cdc = NonNullable<Remote["cdc"]>;
type Crdt = NonNullable<Remote["crdt"]>;
type Types = NonNullable<Remote["logicalType"]>;

interface Case {
  name: string;
  fixture?: "hostile" | "hostile-manifest" | "hostile-manifest-bounded";
  /** What the deadline error names. */
  what: string;
  /** Starts the runaway call (after whatever set-up it needs, awaited first). */
  runaway(w: Remote): Promise<() => Promise<unknown>>;
}

const sink = { sink: { mode: "live" as const, nextLsn: 0n } };
const cases: Case[] = [
  {
    name: "index.build",
    what: "index.build",
    runaway: async (w) => () => (w.index as Index).build("loop", new Uint8Array([1])),
  },
  {
    name: "index.open",
    what: "index.open",
    runaway: async (w) => () => (w.index as Index).open("loop", new Uint8Array([1])),
  },
  {
    name: "index-handle.probe",
    what: "index-handle.probe",
    runaway: async (w) => {
      const h = await (w.index as Index).build("echo", new Uint8Array([1]));
      return () => h.probe(new Uint8Array([0xff]), 1);
    },
  },
  {
    name: "index-handle.probe-filtered",
    what: "index-handle.probe-filtered",
    runaway: async (w) => {
      const h = await (w.index as Index).build("echo", new Uint8Array([1]));
      return () => h.probeFiltered(new Uint8Array([0xff]), 1, new Uint8Array([1]));
    },
  },
  {
    name: "index-handle.persist",
    what: "index-handle.persist",
    runaway: async (w) => {
      const h = await (w.index as Index).build("echo", new Uint8Array([0xfe, 1]));
      return () => h.persist();
    },
  },
  {
    name: "index-handle.persistShared",
    what: "index-handle.persist",
    runaway: async (w) => {
      const h = await (w.index as Index).build("echo", new Uint8Array([0xfe, 1]));
      return () => h.persistShared();
    },
  },
  { name: "cdc.start", what: "cdc.start", runaway: async (w) => () => (w.cdc as Cdc).start("loop", undefined, sink) },
  {
    name: "cdc-stream.deliver",
    what: "cdc-stream.deliver",
    runaway: async (w) => {
      const s = await (w.cdc as Cdc).start("changelog", undefined, sink);
      return () => s.deliver({ lsnStart: 0n, lsnEnd: 1n, mutations: new Uint8Array([0xff]), commitMicros: 0n }, sink);
    },
  },
  { name: "crdt.empty", what: "crdt.empty", runaway: async (w) => () => (w.crdt as Crdt).empty("loop") },
  {
    name: "crdt-state.apply",
    what: "crdt-state.apply",
    runaway: async (w) => {
      const s = await (w.crdt as Crdt).empty("counter");
      return () => s.apply(new Uint8Array([0xff]));
    },
  },
  {
    name: "crdt-state.persist",
    what: "crdt-state.persist",
    runaway: async (w) => {
      const s = await (w.crdt as Crdt).empty("counter");
      await s.apply(new Uint8Array([0xfe]));
      return () => s.persist();
    },
  },
  {
    name: "logical-type.arrow-type",
    what: "logical-type.arrow-type",
    runaway: async (w) => () => (w.logicalType as Types).arrowType("loop"),
  },
  {
    name: "logical-type.from-literal",
    what: "logical-type.from-literal",
    runaway: async (w) => () => (w.logicalType as Types).fromLiteral("hostile.text", new Uint8Array([0xff])),
  },
  {
    name: "manifest",
    fixture: endsStuckWorkers ? "hostile-manifest" : "hostile-manifest-bounded",
    what: "manifest",
    runaway: async (w) => () => w.manifest(),
  },
];

/** Another plugin in another worker, and one in-thread: neither may notice a neighbour's death. */
let neighbours: {
  remote: Remote;
  probe: Uint8Array;
  expected: Uint8Array;
  local: ComponentInstance;
} | null = null;

beforeAll(async () => {
  const module = await ComponentModule.compile(await loadFixture("index-echo"));
  const remote = await spawnWorker(module, { pluginId: "test.neighbour", grants: new Set(), timeoutMs: 10_000 });
  const crdt = await ComponentModule.compile(await loadPlugin("crdt-v1"));
  const local = await ComponentInstance.instantiate(crdt, { pluginId: "test.local", grants: new Set() });
  const probe = new Uint8Array([7, 7, 7]);
  neighbours = { remote, probe, expected: probe, local };
});

afterAll(async () => {
  await neighbours?.remote.dispose();
});

async function expectNeighboursServing(): Promise<void> {
  const n = neighbours as NonNullable<typeof neighbours>;
  const h = await (n.remote.index as Index).build("echo", new Uint8Array([1]));
  expect(await h.probe(n.probe, 1)).to.deep.equal(n.expected);
  await h.drop();
  const state = n.local.crdt?.empty("g-counter");
  state?.apply(encode(["a", 1]));
  expect(state?.value()).to.deep.equal(encode(1));
  state?.drop();
}

async function hostile(
  fixture: string,
  channel: "atomics" | "message",
  pluginId: string,
  log?: (l: string, m: string) => void,
) {
  const module = await ComponentModule.compile(await loadFixture(fixture), { memoryPagesCeiling: CEILING });
  const deaths: WorkerDeath[] = [];
  const w = await spawnWorker(
    module,
    {
      pluginId,
      grants: new Set(["cdc-sink"]),
      channel,
      timeoutMs: DEADLINE,
      onDeath: (d) => deaths.push(d),
      ...(log ? { log } : {}),
    },
    { timeoutMs: 30_000 }, // starting a worker on a busy machine can take longer than the calls' deadline
  );
  if (fixture === "hostile") await boundRunaways(w);
  return { w, deaths };
}

type Timed = ReturnType<typeof timed<unknown>>;

/** The deadline fired on `runaway` (and on `queued`, both timed from their start), the worker is gone, later calls refused fast. */
async function expectKilled(
  w: Remote,
  deaths: WorkerDeath[],
  runaway: Timed,
  queued: Timed,
  what: string,
): Promise<void> {
  const settled = await runaway;
  expect(settled.ok, `${what} should not succeed`).to.equal(false);
  const err = expectPluginError(settled.ok ? undefined : settled.error, {
    code: ErrorCode.DeadlineExceeded,
    retryable: true,
    pluginId: w.pluginId,
    message: [what, `deadline of ${DEADLINE} ms`],
  });
  expect(settled.ms, `${what} rejected after ${settled.ms} ms`).to.be.lessThan(DEADLINE + SLACK);
  expect(settled.ms).to.be.greaterThan(DEADLINE - 50);
  const behind = await queued;
  expectPluginError(behind.ok ? undefined : behind.error, {
    code: ErrorCode.DeadlineExceeded,
    retryable: true,
    message: "queued behind",
  });
  expect(deaths).to.have.length(1);
  expect(deaths[0]?.reason).to.equal("deadline");
  expect(deaths[0]?.what).to.equal(what);
  expect(deaths[0]?.error).to.equal(err);
  expect(terminated).to.include(w.pluginId);
  expect(w.poisoned).to.equal(true);
  expect(w.death?.reason).to.equal("deadline");
  const later = await timed(w.manifest());
  expect(later.ms).to.be.lessThan(SLACK);
  const refusal = expectPluginError(later.ok ? undefined : later.error, {
    code: ErrorCode.Poisoned,
    message: ["terminated", "deadline"],
  });
  expect(refusal).to.be.instanceOf(TrapError);
  expect(await w.memoryBytes()).to.equal(0);
  await w.dispose(); // resolves: nothing left to release
  expect(deaths).to.have.length(1);
}

for (const channel of channels()) {
  describe(`worker deadlines (${channel} channel)`, () => {
    for (const c of cases) {
      it(`a runaway ${c.name} is rejected at its deadline, its worker ended, neighbours unaffected`, async () => {
        const { w, deaths } = await hostile(c.fixture ?? "hostile", channel, `test.runaway.${c.name}.${channel}`);
        const start = await c.runaway(w);
        const runaway = timed(start());
        const queued = timed<unknown>(c.fixture ? w.manifest({ timeoutMs: 10_000 }) : w.memoryBytes());
        await expectKilled(w, deaths, runaway, queued, c.what);
        await expectNeighboursServing();
      });
    }

    it("a per-call timeoutMs overrides the default, and other calls keep theirs", async () => {
      const { w, deaths } = await hostile("hostile", channel, `test.runaway.percall.${channel}`);
      const h = await (w.index as Index).build("echo", new Uint8Array([1]), "{}", { timeoutMs: 10_000 });
      const settled = await timed(h.probe(new Uint8Array([0xff]), 1, { timeoutMs: 100 }));
      expectPluginError(settled.ok ? undefined : settled.error, {
        code: ErrorCode.DeadlineExceeded,
        message: "deadline of 100 ms",
      });
      expect(settled.ms).to.be.lessThan(100 + SLACK);
      expect(deaths.map((d) => d.what)).to.deep.equal(["index-handle.probe"]);
    });

    it("a memory bomb stops at the memory ceiling, then the deadline ends its worker", async () => {
      const lines: string[] = [];
      const { w, deaths } = await hostile("hostile", channel, `test.bomb.${channel}`, (level, message) =>
        lines.push(`${level}: ${message}`),
      );
      const runaway = timed((w.index as Index).build("bomb", new Uint8Array([1])));
      const queued = timed(w.manifest());
      await expectKilled(w, deaths, runaway, queued, "index.build");
      // The guest logged how far it got before spinning: exactly the ceiling the module was compiled under.
      expect(await eventually(() => lines.length > 0)).to.equal(true);
      expect(lines).to.deep.equal([`warn: memory ceiling reached at ${CEILING} pages`]);
      await expectNeighboursServing();
    });

    it("a host-log flood reaches main in order without starving it, until the deadline ends its worker", async () => {
      let lines = 0;
      let wrong = 0;
      const { w, deaths } = await hostile("hostile", channel, `test.flood.${channel}`, (level, message) => {
        lines++;
        if (level !== "info" || message !== "flooding host-log") wrong++;
      });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const runaway = timed((w.index as Index).build("flood", new Uint8Array([1])));
      const queued = timed(w.manifest());
      // Main keeps serving during the flood: the neighbours answer, timers run.
      await new Promise((resolve) => setTimeout(resolve, DEADLINE / 3));
      await expectNeighboursServing();
      await expectKilled(w, deaths, runaway, queued, "index.build");
      clearInterval(ticker);
      expect(lines).to.be.greaterThan(0);
      expect(wrong).to.equal(0);
      expect(ticks).to.be.greaterThan(3);
    });

    it("dispose queued behind a runaway resolves once the deadline has ended the worker", async () => {
      const { w, deaths } = await hostile("hostile", channel, `test.dispose.${channel}`);
      const runaway = timed((w.index as Index).build("loop", new Uint8Array([1])));
      const disposing = timed(w.dispose());
      const refused = await timed(w.manifest());
      expectPluginError(refused.ok ? undefined : refused.error, { code: ErrorCode.Disposed });
      expect((await runaway).ok).to.equal(false);
      const disposed = await disposing;
      expect(disposed.ok).to.equal(true);
      expect(disposed.ms).to.be.lessThan(DEADLINE + SLACK);
      expect(w.disposed || w.poisoned).to.equal(true);
      expect(deaths).to.have.length(1);
    });
  });
}

describe("worker start-up deadline", () => {
  it("a spawn that outlives its deadline rejects with DeadlineExceeded, leaves no worker and calls no onDeath", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"));
    const deaths: WorkerDeath[] = [];
    const settled = await timed(
      spawnWorker(
        module,
        { pluginId: "test.slow-start", grants: new Set(), onDeath: (d) => deaths.push(d) },
        { timeoutMs: 1 },
      ),
    );
    expectPluginError(settled.ok ? undefined : settled.error, {
      code: ErrorCode.DeadlineExceeded,
      message: ["spawn", "deadline of 1 ms"],
      pluginId: "test.slow-start",
    });
    expect(settled.ms).to.be.lessThan(1 + SLACK);
    expect(terminated).to.include("test.slow-start");
    expect(deaths).to.deep.equal([]);
  });
});
