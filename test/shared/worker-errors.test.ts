// Errors cross the thread boundary typed: what the worker's instance throws is rethrown on main as the same
// class with the same code, message, retryable and plugin id as in-thread; a trap poisons the remote
// instance exactly like in-thread; bad input is a typed rejection, never a synchronous throw.
import { makeVector, Table } from "apache-arrow";
import { afterAll, describe, expect, it } from "#test";
import { toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, LoadError, type PluginError } from "../../src/errors.ts";
import { type WorkerInstance, WorkerInstance as WorkerInstanceClass } from "../../src/worker/mod.ts";
import { expectPluginError, expectRejects } from "../support/errors.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { channels, spawnWorker, terminated } from "../support/worker.ts";
import { seededFloats, vectorColumn } from "./host-util.ts";

const live: WorkerInstance[] = [];
afterAll(async () => {
  for (const w of live.splice(0)) await w.dispose();
});

/** The in-thread error of `local` and the remote one of `remote`: same class, code, message, retryable, id. */
async function sameError(local: () => unknown, remote: () => Promise<unknown>): Promise<PluginError> {
  let expected: PluginError | undefined;
  try {
    local();
  } catch (err) {
    expected = err as PluginError;
  }
  if (!expected) throw new Error("the in-thread call did not throw");
  const got = await expectRejects(remote(), {
    code: expected.code,
    message: expected.message,
    name: expected.name,
    retryable: expected.retryable,
    ...(expected.pluginId === undefined ? {} : { pluginId: expected.pluginId }),
  });
  expect(got.constructor).to.equal(expected.constructor);
  expect(got.message).to.equal(expected.message);
  return got;
}

async function pair(bytes: Uint8Array, channel: "atomics" | "message", grants: string[] = []) {
  const module = await ComponentModule.compile(bytes);
  const local = await ComponentInstance.instantiate(module, { pluginId: "test.same", grants: new Set(grants) });
  const remote = await spawnWorker(module, { pluginId: "test.same", grants: new Set(grants), channel });
  live.push(remote);
  return { module, local, remote };
}

const vectors = (rows: number, dim: number) =>
  toIPC(new Table({ vector: vectorColumn(seededFloats(rows * dim, rows * dim), dim) }));

for (const channel of channels()) {
  describe(`worker errors (${channel} channel)`, () => {
    it("a plugin's fn-error is the same PluginCallError, and does not poison", async () => {
      const { local, remote } = await pair(await loadPlugin("vector-flat-v1"), channel);
      const source = toIPC(
        new Table({
          id: makeVector(BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i))),
          vector: vectorColumn(seededFloats(1, 40), 4),
        }),
      );
      const lh = local.index?.build("vector.flat", source, "{}");
      const rh = await remote.index?.build("vector.flat", source, "{}");
      const err = await sameError(
        () => lh?.probe(vectors(1, 3), 1),
        async () => rh?.probe(vectors(1, 3), 1),
      );
      expect(err.name).to.equal("PluginCallError");
      expect(remote.poisoned).to.equal(false);
      expect(await rh?.supportsFilter()).to.equal(true);
    });

    it("bad arguments are refused by the same checks, with the same TypeCoercion messages", async () => {
      const { local, remote } = await pair(await loadFixture("index-echo"), channel);
      const lh = local.index?.build("echo", new Uint8Array([1]));
      const rh = await remote.index?.build("echo", new Uint8Array([1]));
      const bad: [string, unknown, unknown][] = [
        ["query not bytes", [1, 2], 1],
        ["query a Float32Array", new Float32Array(2), 1],
        ["query a function", () => 1, 1],
        ["query null", null, 1],
        ["k negative", new Uint8Array(1), -1],
        ["k fractional", new Uint8Array(1), 1.5],
        ["k a bigint", new Uint8Array(1), 3n],
        ["k a string", new Uint8Array(1), "3"],
      ];
      for (const [, query, k] of bad) {
        await sameError(
          () => lh?.probe(query as Uint8Array, k as number),
          () => (rh as NonNullable<typeof rh>).probe(query as Uint8Array, k as number),
        );
      }
      await sameError(
        () => local.index?.build(42 as unknown as string, new Uint8Array()),
        () => (remote.index as NonNullable<WorkerInstance["index"]>).build(42 as unknown as string, new Uint8Array()),
      );
      expect(remote.poisoned).to.equal(false);
    });

    it("a trap is the same TrapError and poisons the remote instance exactly like in-thread", async () => {
      const { local, remote } = await pair(await loadFixture("index-echo"), channel);
      const lh = local.index?.build("echo", new Uint8Array([1, 2]));
      const rh = await remote.index?.build("echo", new Uint8Array([1, 2]));
      const trap = await sameError(
        () => lh?.probe(new Uint8Array([3]), 0xdead),
        async () => rh?.probe(new Uint8Array([3]), 0xdead),
      );
      expect(trap.code).to.equal(ErrorCode.Trap);
      expect(remote.poisoned).to.equal(true);
      expect(local.poisoned).to.equal(true);
      // Every later call: the same Poisoned refusal, without entering wasm.
      await sameError(
        () => local.manifest(),
        () => remote.manifest(),
      );
      await sameError(
        () => lh?.probe(new Uint8Array([3]), 1),
        async () => rh?.probe(new Uint8Array([3]), 1),
      );
      // A poisoned instance still releases its handles without entering wasm.
      await rh?.drop();
      lh?.drop();
      expect(await remote.liveHandles()).to.deep.equal(local.liveHandles());
      expect(remote.death).to.equal(undefined); // poisoned by a trap, not dead: the worker still answers
    });

    it("a dropped handle and a disposed instance refuse like in-thread", async () => {
      const { local, remote } = await pair(await loadFixture("index-echo"), channel);
      const lh = local.index?.build("echo", new Uint8Array([1]));
      const rh = await remote.index?.build("echo", new Uint8Array([1]));
      const lkeep = local.index?.build("echo", new Uint8Array([2]));
      const rkeep = await remote.index?.build("echo", new Uint8Array([2]));
      lh?.drop();
      await rh?.drop();
      await rh?.drop(); // idempotent
      const stale = await sameError(
        () => lh?.probe(new Uint8Array([1]), 1),
        async () => rh?.probe(new Uint8Array([1]), 1),
      );
      expect(stale.code).to.equal(ErrorCode.StaleHandle);
      local.dispose();
      await remote.dispose();
      await remote.dispose(); // idempotent
      expect(remote.disposed).to.equal(true);
      expect(rkeep?.dropped).to.equal(true);
      expect(lkeep?.dropped).to.equal(true);
      const disposed = await sameError(
        () => local.manifest(),
        () => remote.manifest(),
      );
      expect(disposed.code).to.equal(ErrorCode.Disposed);
      expect(await remote.liveHandles()).to.deep.equal({ index: 0, cdc: 0, crdt: 0, "logical-type": 0 });
      expect(await remote.memoryBytes()).to.equal(0);
      expect(terminated).to.include("test.same");
    });

    it("spawn refuses like instantiate: a missing cdc-sink grant is the same LoadError", async () => {
      const module = await ComponentModule.compile(await loadFixture("cdc-emit"));
      let expected: PluginError | undefined;
      try {
        await ComponentInstance.instantiate(module, { pluginId: "test.cdc", grants: new Set(["cdc"]) });
      } catch (err) {
        expected = err as PluginError;
      }
      const err = await expectRejects(
        spawnWorker(module, { pluginId: "test.cdc", grants: new Set(["cdc"]), channel }),
        {
          code: ErrorCode.CapabilityDenied,
          name: "LoadError",
          pluginId: "test.cdc",
        },
      );
      expect(err).to.be.instanceOf(LoadError);
      expect(err.message).to.equal(expected?.message);
    });

    it("the plugin id set after spawn names the plugin in the worker's errors too", async () => {
      const { remote } = await pair(await loadFixture("index-echo"), channel);
      remote.pluginId = "test.renamed";
      expect(remote.pluginId).to.equal("test.renamed");
      const err = await expectRejects(
        (remote.index as NonNullable<WorkerInstance["index"]>).build("nope", new Uint8Array()),
        {
          code: 0x101,
          name: "PluginCallError",
        },
      );
      expect(err.pluginId).to.equal("test.renamed");
    });
  });
}

describe("worker option checks", () => {
  it("bad spawn options and per-call options are typed rejections, never synchronous throws", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"));
    const spawned = () => WorkerInstanceClass.spawn(module, { pluginId: "x", grants: new Set(), timeoutMs: -1 });
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = spawned();
    }).not.to.throw();
    await expectRejects(promise as Promise<unknown>, { code: ErrorCode.TypeCoercion, message: "timeoutMs" });
    await expectRejects(WorkerInstanceClass.spawn({} as ComponentModule, { pluginId: "x", grants: new Set() }), {
      code: ErrorCode.TypeCoercion,
      message: "ComponentModule",
    });
    await expectRejects(WorkerInstanceClass.spawn(module, { pluginId: 3 } as never), { code: ErrorCode.TypeCoercion });
    await expectRejects(
      WorkerInstanceClass.spawn(module, { pluginId: "x", grants: new Set(), channel: "pigeon" as never }),
      { code: ErrorCode.TypeCoercion, message: "channel" },
    );

    const remote = await spawnWorker(module, { pluginId: "test.options", grants: new Set() });
    live.push(remote);
    for (const call of [{ timeoutMs: 0 }, { timeoutMs: Number.NaN }, { timeoutMs: "5" }, { transfer: 1 }, 7]) {
      let p: Promise<unknown> | undefined;
      expect(() => {
        p = remote.manifest(call as never);
      }).not.to.throw();
      const err = await expectRejects(p as Promise<unknown>, { code: ErrorCode.TypeCoercion });
      expectPluginError(err, { message: "manifest" });
    }
    const stream = { sink: { mode: "open", nextLsn: 0n } };
    const cdcModule = await ComponentModule.compile(await loadFixture("cdc-emit"));
    const cdc = await spawnWorker(cdcModule, { pluginId: "test.cdc", grants: new Set(["cdc-sink"]) });
    live.push(cdc);
    await expectRejects(
      (cdc.cdc as NonNullable<WorkerInstance["cdc"]>).start("changelog", undefined, stream as never),
      {
        code: ErrorCode.TypeCoercion,
        message: "sink",
      },
    );
    expect(await remote.manifest({ timeoutMs: Number.POSITIVE_INFINITY })).to.contain("index-echo");
  });

  it("a module that may grow past the spawn's memory ceiling is refused: spawning never recompiles", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"), { memoryPagesCeiling: 64 });
    await expectRejects(spawnWorker(module, { pluginId: "test.ceiling", grants: new Set(), memoryPagesCeiling: 32 }), {
      code: ErrorCode.ResourceLimit,
      name: "LoadError",
      message: ["64 pages", "memoryPagesCeiling: 32"],
    });
    const fits = await spawnWorker(module, { pluginId: "test.ceiling", grants: new Set(), memoryPagesCeiling: 64 });
    live.push(fits);
    expect(await fits.manifest()).to.contain("index-echo");
  });
});
