// Moving state between instances without the main thread copying the bytes: persistShared() gives a snapshot in
// memory the worker filled (a SharedArrayBuffer on the shared channel; an ArrayBuffer moved to main without
// shared memory), which another instance — in a worker or in-thread — opens. Mixed modes both ways.
import { encode } from "@msgpack/msgpack";
import { makeVector, Table } from "apache-arrow";
import { afterAll, describe, expect, it } from "#test";
import { toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { persistShared, type WorkerInstance } from "../../src/worker/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { channels, spawnWorker } from "../support/worker.ts";
import { seededFloats, vectorColumn } from "./host-util.ts";

type Index = NonNullable<WorkerInstance["index"]>;
type Crdt = NonNullable<WorkerInstance["crdt"]>;

const live: WorkerInstance[] = [];
afterAll(async () => {
  for (const w of live.splice(0)) await w.dispose();
});

const DIM = 16;
const source = toIPC(
  new Table({
    id: makeVector(BigInt64Array.from({ length: 500 }, (_, i) => BigInt(i))),
    vector: vectorColumn(seededFloats(42, 500 * DIM), DIM),
  }),
);
const query = toIPC(new Table({ vector: vectorColumn(seededFloats(7, 3 * DIM), DIM) }));

async function spawn(plugin: string, channel: "atomics" | "message") {
  const module = await ComponentModule.compile(await loadPlugin(plugin));
  const w = await spawnWorker(module, { pluginId: `test.${plugin}`, grants: new Set(), channel });
  live.push(w);
  return { module, w };
}

const isSharedMemory = (bytes: Uint8Array) =>
  typeof SharedArrayBuffer === "function" && bytes.buffer instanceof SharedArrayBuffer;

for (const channel of channels()) {
  describe(`worker state handoff (${channel} channel)`, () => {
    it("an index snapshot moves worker → worker and worker → in-thread, probes identical", async () => {
      const a = await spawn("vector-flat-v1", channel);
      const b = await spawn("vector-flat-v2", channel);
      const handle = await (a.w.index as Index).build("vector.flat", source, "{}");
      const expected = await handle.probe(query, 5);

      const snapshot = await handle.persistShared();
      // Shared memory where the channel has it; else an ArrayBuffer moved (not copied) to main.
      expect(isSharedMemory(snapshot)).to.equal(channel === "atomics");
      expect(snapshot).to.deep.equal(await handle.persist());

      const moved = await (b.w.index as Index).open("vector.flat", snapshot);
      expect(await moved.probe(query, 5)).to.deep.equal(expected);
      // The snapshot is still main's: nothing was transferred away.
      expect(snapshot.byteLength).to.be.greaterThan(0);

      const local = await ComponentInstance.instantiate(a.module, { pluginId: "test.local", grants: new Set() });
      const opened = local.index?.open("vector.flat", snapshot);
      expect(opened?.probe(query, 5)).to.deep.equal(expected);
    });

    it("an in-thread index moves into a worker through persistShared, and transfer moves an ArrayBuffer", async () => {
      const { module, w } = await spawn("vector-flat-v1", channel);
      const local = await ComponentInstance.instantiate(module, { pluginId: "test.local", grants: new Set() });
      const handle = local.index?.build("vector.flat", source, "{}");
      const expected = handle?.probe(query, 4);
      const snapshot = persistShared(handle as NonNullable<typeof handle>);
      expect(isSharedMemory(snapshot)).to.equal(typeof SharedArrayBuffer === "function");
      const remote = await (w.index as Index).open("vector.flat", snapshot);
      expect(await remote.probe(query, 4)).to.deep.equal(expected);

      const owned = handle?.persist() as Uint8Array;
      const remote2 = await (w.index as Index).open("vector.flat", owned, { transfer: true });
      expect(owned.byteLength).to.equal(0); // moved to the worker, not copied
      expect(await remote2.probe(query, 4)).to.deep.equal(expected);
    });

    it("a CRDT state moves between workers and in-thread by its shared snapshot, and merges from one", async () => {
      const a = await spawn("crdt-v1", channel);
      const b = await spawn("crdt-v2", channel);
      const state = await (a.w.crdt as Crdt).empty("g-counter");
      await state.apply(encode(["r1", 10]));
      await state.apply(encode(["r2", 1]));
      const snapshot = await state.persistShared();
      expect(isSharedMemory(snapshot)).to.equal(channel === "atomics");

      const moved = await (b.w.crdt as Crdt).fromPersisted("g-counter", snapshot);
      expect(await moved.value()).to.deep.equal(await state.value());
      const other = await (b.w.crdt as Crdt).empty("g-counter");
      await other.apply(encode(["r3", 5]));
      await other.merge(snapshot);
      expect(await other.value()).to.deep.equal(encode(16));

      const local = await ComponentInstance.instantiate(a.module, { pluginId: "test.local", grants: new Set() });
      const inThread = local.crdt?.fromPersisted("g-counter", snapshot);
      expect(inThread?.value()).to.deep.equal(encode(11));
      inThread?.apply(encode(["r1", 20]));
      const back = await (a.w.crdt as Crdt).fromPersisted(
        "g-counter",
        persistShared(inThread as NonNullable<typeof inThread>),
      );
      expect(await back.value()).to.deep.equal(encode(31)); // r1: 10 + 20, r2: 1
    });
  });
}
