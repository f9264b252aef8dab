// Every surface through a worker-hosted instance gives exactly what the same component gives in-thread:
// the committed samples (plugins-wasm/dist: vector-flat, changelog, crdt, types), on every channel this
// runtime offers (the shared-memory one where shared memory exists, and messages only).
import { encode } from "@msgpack/msgpack";
import { makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import { afterAll, describe, expect, it } from "#test";
import { fromIPC, toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import type { WorkerInstance } from "../../src/worker/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { channels, spawnWorker } from "../support/worker.ts";
import { seededFloats, vectorColumn } from "./host-util.ts";

const DIM = 8;

function dataset(rows: number, seed: number): Table {
  return new Table({
    id: makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 10))),
    vector: vectorColumn(seededFloats(seed, rows * DIM), DIM),
  });
}
const queries = (rows: number, seed: number) =>
  new Table({ vector: vectorColumn(seededFloats(seed, rows * DIM), DIM) });

function mutations(keys: number[]): Uint8Array {
  return toIPC(
    new Table({
      key: makeVector(Int32Array.from(keys)),
      op: vectorFromArray(
        keys.map((k) => (k % 2 ? "update" : "insert")),
        new Utf8(),
      ),
    }),
  );
}

const live: WorkerInstance[] = [];
afterAll(async () => {
  for (const w of live.splice(0)) await w.dispose();
});

async function both(plugin: string, channel: "atomics" | "message", grants: string[] = [], channelBytes?: number) {
  const module = await ComponentModule.compile(await loadPlugin(plugin));
  const emitted: { output: string; lsnStart: bigint; lsnEnd: bigint; payload: Uint8Array }[] = [];
  const local = await ComponentInstance.instantiate(module, {
    pluginId: `local.${plugin}`,
    grants: new Set(grants),
    cdcSink: (output, lsnStart, lsnEnd, payload) => emitted.push({ output, lsnStart, lsnEnd, payload }),
  });
  const remote = await spawnWorker(module, {
    pluginId: `remote.${plugin}`,
    grants: new Set(grants),
    channel,
    timeoutMs: 20_000,
    ...(channelBytes ? { channelBytes } : {}),
  });
  live.push(remote);
  return { local, remote, emitted };
}

for (const channel of channels()) {
  describe(`worker surfaces (${channel} channel)`, () => {
    it("index: build, probe, filter, schema, persist and reopen match in-thread byte for byte", async () => {
      const { local, remote } = await both("vector-flat-v1", channel);
      expect(remote.channel).to.equal(channel);
      expect(await remote.manifest()).to.equal(local.manifest());
      const li = local.index as NonNullable<ComponentInstance["index"]>;
      const ri = remote.index as NonNullable<WorkerInstance["index"]>;
      expect(await ri.kinds()).to.deep.equal(li.kinds());

      const source = toIPC(dataset(300, 7));
      const lh = li.build("vector.flat", source, "{}");
      const rh = await ri.build("vector.flat", source, "{}");
      const q = toIPC(queries(4, 99));
      expect(await rh.probe(q, 5)).to.deep.equal(lh.probe(q, 5));
      expect(await rh.supportsFilter()).to.equal(lh.supportsFilter());
      const mask = new Uint8Array(Math.ceil(300 / 8)).fill(0b01010101);
      expect(await rh.probeFiltered(q, 3, mask)).to.deep.equal(lh.probeFiltered(q, 3, mask));
      expect(await rh.schema()).to.deep.equal(lh.schema());
      const persisted = await rh.persist();
      expect(persisted).to.deep.equal(lh.persist());

      const reopened = await ri.open("vector.flat", persisted);
      expect(await reopened.probe(q, 5)).to.deep.equal(lh.probe(q, 5));
      const table = await reopened.probeTable(queries(2, 5), 3);
      expect(table.getChild("id")?.toArray()).to.deep.equal(lh.probeTable(queries(2, 5), 3).getChild("id")?.toArray());
      const built = await ri.buildTable("vector.flat", dataset(20, 3));
      expect(await built.probe(q, 2)).to.deep.equal(li.buildTable("vector.flat", dataset(20, 3)).probe(q, 2));
      const localReopened = li.open("vector.flat", lh.persist());
      expect(await remote.liveHandles()).to.deep.equal(local.liveHandles());
      localReopened.drop();
      expect(await remote.memoryBytes()).to.be.greaterThan(0);

      await rh.drop();
      expect(rh.dropped).to.equal(true);
      expect((await remote.liveHandles()).index).to.equal(2);
    });

    it("index: batches bigger than the shared buffer cross by message with the same results", async () => {
      const { local, remote } = await both("vector-flat-v1", channel, [], 4096);
      const li = local.index as NonNullable<ComponentInstance["index"]>;
      const ri = remote.index as NonNullable<WorkerInstance["index"]>;
      const source = toIPC(dataset(1000, 11)); // ~40 KB in, ~40 KB persisted: both over 4 KiB
      expect(source.length).to.be.greaterThan(4096);
      const lh = li.build("vector.flat", source, "{}");
      const rh = await ri.build("vector.flat", source, "{}");
      const q = toIPC(queries(200, 3));
      expect(q.length).to.be.greaterThan(4096);
      const out = await rh.probe(q, 10);
      expect(out.length).to.be.greaterThan(4096);
      expect(out).to.deep.equal(lh.probe(q, 10));
      expect(await rh.persist()).to.deep.equal(lh.persist());
      // Small calls keep working after big ones.
      expect(await rh.supportsFilter()).to.equal(true);
    });

    it("cdc: start, deliver, checkpoint and shutdown match in-thread, emits included", async () => {
      const { local, remote, emitted } = await both("changelog-v1", channel, ["cdc-sink"]);
      const lc = local.cdc as NonNullable<ComponentInstance["cdc"]>;
      const rc = remote.cdc as NonNullable<WorkerInstance["cdc"]>;
      expect(await rc.outputs()).to.deep.equal(lc.outputs());
      const ls = lc.start("changelog");
      let next = 0n;
      const received: typeof emitted = [];
      const sink = () => ({
        sink: { mode: "live" as const, nextLsn: next },
        onEmit: (e: (typeof emitted)[number]) => {
          received.push(e);
          next = e.lsnEnd;
        },
      });
      const rs = await rc.start("changelog", undefined, sink());
      const batches = [
        { lsnStart: 0n, lsnEnd: 3n, mutations: mutations([1, 2, 3]), commitMicros: 1_700_000_000_000_000n },
        { lsnStart: 3n, lsnEnd: 4n, mutations: mutations([4]), commitMicros: 1_700_000_000_000_001n },
        { lsnStart: 4n, lsnEnd: 5n, mutations: mutations([]), commitMicros: 1_700_000_000_000_002n },
      ];
      for (const batch of batches) {
        ls.deliver(batch);
        await rs.deliver(batch, sink());
      }
      expect(await rs.checkpoint(sink())).to.equal(ls.checkpoint());
      ls.shutdown();
      await rs.shutdown(sink());
      expect(received.length).to.be.greaterThan(0);
      expect(received).to.deep.equal(emitted);
      await rs.drop();
      expect(await remote.liveHandles()).to.deep.equal({ index: 0, cdc: 0, crdt: 0, "logical-type": 0 });
    });

    it("crdt: apply, value, merge, persist and reopen match in-thread", async () => {
      const { local, remote } = await both("crdt-v1", channel);
      const lc = local.crdt as NonNullable<ComponentInstance["crdt"]>;
      const rc = remote.crdt as NonNullable<WorkerInstance["crdt"]>;
      expect(await rc.kinds()).to.deep.equal(lc.kinds());
      const la = lc.empty("g-counter");
      const ra = await rc.empty("g-counter");
      const lb = lc.empty("g-counter");
      const rb = await rc.empty("g-counter");
      for (const [replica, n] of [
        ["a", 2],
        ["b", 3],
        ["a", 1],
      ] as const) {
        la.apply(encode([replica, n]));
        await ra.apply(encode([replica, n]));
      }
      lb.apply(encode(["a", 9]));
      await rb.apply(encode(["a", 9]));
      la.merge(lb.persist());
      await ra.merge(await rb.persist());
      expect(await ra.value()).to.deep.equal(la.value());
      const persisted = await ra.persist();
      expect(persisted).to.deep.equal(la.persist());
      const reopened = await rc.fromPersisted("g-counter", persisted);
      expect(await reopened.value()).to.deep.equal(la.value());
    });

    it("logical-type: names, types, literals, display and casts match in-thread", async () => {
      const { local, remote } = await both("types-v1", channel);
      const lt = local.logicalType as NonNullable<ComponentInstance["logicalType"]>;
      const rt = remote.logicalType as NonNullable<WorkerInstance["logicalType"]>;
      expect(remote.index).to.equal(undefined);
      expect(await rt.names()).to.deep.equal(lt.names());
      for (const name of lt.names()) {
        expect(await rt.arrowType(name)).to.equal(lt.arrowType(name));
        expect(await rt.encodingVersion(name)).to.equal(lt.encodingVersion(name));
      }
      const literals = toIPC(new Table({ v: vectorFromArray(["POINT(1 2)", "POINT(-3.5 4)"], new Utf8()) }));
      const storage = await rt.fromLiteral("geo.point", literals);
      expect(storage).to.deep.equal(lt.fromLiteral("geo.point", literals));
      expect(await rt.toDisplay("geo.point", storage)).to.deep.equal(lt.toDisplay("geo.point", storage));
      expect(await rt.castTo("geo.point", storage, "Utf8")).to.deep.equal(lt.castTo("geo.point", storage, "Utf8"));
      const text = lt.castTo("geo.point", storage, "Utf8");
      expect(await rt.castFrom("geo.point", text)).to.deep.equal(lt.castFrom("geo.point", text));
      const table = await rt.toDisplayTable("geo.point", fromIPC(storage));
      expect(table.getChild("v")?.toArray()).to.deep.equal(["POINT(1 2)", "POINT(-3.5 4)"]);
    });
  });
}
