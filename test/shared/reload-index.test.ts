// Reload of an index kind: vector.flat v1 → v2 hands every live index over with identical probes;
// v1 → v2-incompatible is refused at check-compat and v1 keeps serving identical results.
import { describe, expect, it } from "#test";
import { ErrorCode } from "../../src/mod.ts";
import { hostWith, plugin, queryTable, refused, rowsOf, vectorTable } from "./reload-util.ts";

const DIM = 16;

describe("reload: index kind vector.flat", () => {
  it("v1 → v2 moves every live index, probes identical, generation + 1", async () => {
    const { host, handle } = await hostWith("vector-flat-v1");
    const l2 = await host.createIndex("l2", "vector.flat", vectorTable(500, DIM, 1));
    const cos = await host.createIndex("cos", "vector.flat", vectorTable(300, DIM, 2), { metric: "cosine" });
    const q = queryTable(7, DIM, 3);
    const before = [rowsOf(await l2.probe(q, 5)), rowsOf(await cos.probe(q, 5))];
    const persisted = await l2.persist();

    const report = await host.reload(handle, await plugin("vector-flat-v2"));

    expect(report.ok).to.equal(true);
    expect(report.steps.map((s) => s.step)).to.deep.equal([
      "validate",
      "instantiate",
      "check-manifest",
      "check-compat",
      "quiesce",
      "handoff",
      "commit",
      "retire",
    ]);
    expect(report.moved.indexes).to.equal(2);
    expect(report.moved.bytes).to.be.greaterThan(persisted.byteLength); // both indexes' bytes crossed
    expect(report.to?.generation).to.equal(handle.generation + 1);
    expect(report.to?.version).to.equal("2.0.0");
    expect(l2.servedBy.version).to.equal("2.0.0");
    expect([rowsOf(await l2.probe(q, 5)), rowsOf(await cos.probe(q, 5))]).to.deep.equal(before);
    expect(host.plugins().map((p) => [p.id, p.version, p.generation])).to.deep.equal([
      ["dev.uni.vector-flat", "2.0.0", handle.generation + 1],
    ]);
    host.dispose();
  });

  it("v1 → v2-incompatible is refused at check-compat naming the kind; v1 serves identical results", async () => {
    const { host, handle } = await hostWith("vector-flat-v1");
    const idx = await host.createIndex("docs", "vector.flat", vectorTable(200, DIM, 4));
    const q = queryTable(3, DIM, 5);
    const before = rowsOf(await idx.probe(q, 4));

    const err = await refused(host.reload(handle, await plugin("vector-flat-v2-incompatible")), "check-compat");

    expect(err.code).to.equal(ErrorCode.Reload);
    expect(err.message).to.contain('index "vector.flat" is incompatible');
    expect(err.pluginId).to.equal("dev.uni.vector-flat");
    expect(idx.servedBy).to.deep.equal(handle);
    expect(rowsOf(await idx.probe(q, 4))).to.deep.equal(before);
    expect(host.plugins()[0]?.version).to.equal("1.0.0");
    // Not stuck: the compatible upgrade still goes through afterwards.
    const ok = await host.reload(handle, await plugin("vector-flat-v2"));
    expect(ok.to?.version).to.equal("2.0.0");
    expect(rowsOf(await idx.probe(q, 4))).to.deep.equal(before);
    host.dispose();
  });

  it("an index built on v2 can be handed back to v1 only if v1 reads it; either way nothing is lost", async () => {
    const { host, handle } = await hostWith("vector-flat-v2");
    const idx = await host.createIndex("docs", "vector.flat", vectorTable(64, DIM, 6));
    const q = queryTable(2, DIM, 7);
    const before = rowsOf(await idx.probe(q, 3));
    try {
      const report = await host.reload(handle, await plugin("vector-flat-v1"));
      expect(report.to?.version).to.equal("1.0.0");
    } catch (err) {
      expect((err as Error).message).to.contain('index "vector.flat" is incompatible');
    }
    expect(rowsOf(await idx.probe(q, 3))).to.deep.equal(before);
    host.dispose();
  });
});
