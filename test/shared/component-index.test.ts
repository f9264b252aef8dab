// The index client and the Arrow conveniences against the real Rust sample
// (plugins-wasm/dist/vector-flat-v1, -v2): exact kNN, squared L2 by default.
import { FixedSizeList, Field, Float32, makeVector, tableFromArrays, Table, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "#test";
import { fromIPC, toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, PluginCallError, type PluginError } from "../../src/errors.ts";
import { loadPlugin } from "../support/fixtures.ts";

async function vectorFlat(name: string) {
  const module = await ComponentModule.compile(await loadPlugin(name));
  const instance = await ComponentInstance.instantiate(module, { pluginId: "dev.uni.vector-flat", grants: new Set() });
  return { instance, index: instance.index as NonNullable<ComponentInstance["index"]> };
}

function vectors(rows: number[][]) {
  const dim = rows[0]?.length ?? 0;
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  return vectorFromArray(rows, type);
}

function source(): Table {
  return new Table({
    id: makeVector(BigInt64Array.from([10n, 20n, 30n])),
    vector: vectors([
      [0, 0],
      [1, 0],
      [0, 3],
    ]),
  });
}

const query = (rows: number[][]) => new Table({ vector: vectors(rows) });

describe("index surface (vector-flat sample)", () => {
  it("builds from an Arrow table and probes the k nearest rows", async () => {
    const { index } = await vectorFlat("vector-flat-v1");
    expect(index.kinds()).to.deep.equal(["vector.flat"]);
    const handle = index.buildTable("vector.flat", source());
    const result = handle.probeTable(query([[1, 1]]), 2);
    // Squared L2 from (1,1): (1,0) → 1, (0,0) → 2, (0,3) → 5.
    expect(result.getChild("id")?.toArray()).to.deep.equal(BigInt64Array.from([20n, 10n]));
    expect([...(result.getChild("distance")?.toArray() ?? [])]).to.deep.equal([1, 2]);
    const schema = fromIPC(handle.schema());
    expect(schema.numRows).to.equal(0);
    expect(schema.schema.fields.map((f) => f.name)).to.deep.equal(["query", "id", "distance"]);
  });

  it("reports a wrong query dimension as the plugin's fn-error", async () => {
    const { index, instance } = await vectorFlat("vector-flat-v1");
    const handle = index.build("vector.flat", toIPC(source()), "{}");
    let err: PluginError | undefined;
    try {
      handle.probe(toIPC(query([[1, 2, 3]])), 1);
    } catch (e) {
      err = e as PluginError;
    }
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err?.code).to.equal(0x101);
    expect(instance.poisoned).to.equal(false);
  });

  it("reports malformed persisted bytes as a fn-error, never a trap", async () => {
    const { index, instance } = await vectorFlat("vector-flat-v1");
    let err: PluginError | undefined;
    try {
      index.open("vector.flat", new Uint8Array([1, 2, 3, 4]));
    } catch (e) {
      err = e as PluginError;
    }
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err?.code).not.to.equal(ErrorCode.Trap);
    expect(instance.poisoned).to.equal(false);
  });

  it("moves a live index from v1 to v2 with a lent persist; probes agree", async () => {
    const v1 = await vectorFlat("vector-flat-v1");
    const v2 = await vectorFlat("vector-flat-v2");
    const rows = Array.from({ length: 500 }, (_, i) => [Math.sin(i), Math.cos(i), i / 100, 1]);
    const ids = BigInt64Array.from(rows.map((_, i) => BigInt(i)));
    const big = new Table({ id: makeVector(ids), vector: vectors(rows) });
    const old = v1.index.buildTable("vector.flat", big);
    const moved = old.persistLent((view) => v2.index.open("vector.flat", view));
    const q = toIPC(query([[0.5, 0.5, 1, 1]]));
    expect(moved.probe(q, 5)).to.deep.equal(old.probe(q, 5));
    expect(fromIPC(moved.probe(q, 5)).numRows).to.equal(5);
  });

  it("keeps guest memory flat across build / probe / persist / drop cycles", async () => {
    const { index, instance } = await vectorFlat("vector-flat-v1");
    const src = toIPC(source());
    const q = toIPC(query([[1, 1]]));
    const cycle = () => {
      const h = index.build("vector.flat", src, "{}");
      h.probe(q, 2);
      h.persistLent((view) => view.length);
      h.persist();
      h.drop();
    };
    for (let i = 0; i < 50; i++) cycle();
    const settled = instance.memoryBytes();
    for (let i = 0; i < 1000; i++) cycle();
    expect(instance.memoryBytes()).to.equal(settled);
    expect(instance.liveHandles().index).to.equal(0);
  });

  it("round-trips Arrow IPC and refuses non-IPC bytes with a typed error", () => {
    const t = tableFromArrays({ a: Int32Array.from([1, 2, 3]) });
    expect([...(fromIPC(toIPC(t)).getChild("a")?.toArray() ?? [])]).to.deep.equal([1, 2, 3]);
    expect(() => fromIPC(new Uint8Array([1, 2, 3]))).to.throw(/not valid Arrow IPC/);
  });
});
