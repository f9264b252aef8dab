// One component, two surfaces: dev.uni.analytics (plugins-wasm/dist/analytics-v1/-v2, world analytics-plugin)
// bundles the crdt sample's pn-counter and g-counter with the types sample's geo.point. The host must register both
// surfaces from one load, all or nothing, and a reload must hand over CRDT states while geo.point keeps its contract.
import type { Table } from "apache-arrow";
import { describe, expect, it } from "#test";
import { ErrorCode, type LiveCrdt, type PluginHost, RegistryError } from "../../src/mod.ts";
import { expectRejects, expectThrows } from "./host-util.ts";
import { hostWith, plugin } from "./reload-util.ts";

const ANALYTICS_KEYS = { index: [], cdc: [], crdt: ["pn-counter", "g-counter"], "logical-type": ["geo.point"] };
const POINTS = ["POINT(13.4 52.52)", "POINT(-73.99 40.73)", null, "POINT(0 0)"];

/** The first column's rows as plain JS (a FixedSizeList row as an array of numbers). */
function rows(table: Table): unknown[] {
  const col = table.getChildAt(0);
  return col ? Array.from(col, (v) => (v === null ? null : [...(v as { toArray(): Float64Array }).toArray()])) : [];
}

/** A pn-counter and a g-counter, each with ops from two replicas: values 7 and 9. */
async function counters(host: PluginHost): Promise<LiveCrdt[]> {
  const likes = await host.createCrdt("likes", "pn-counter");
  await likes.apply(["a", 10]);
  await likes.apply(["b", -3]);
  const views = await host.createCrdt("views", "g-counter");
  await views.apply(["a", 4]);
  await views.apply(["b", 5]);
  return [likes, views];
}

const values = (states: LiveCrdt[]) => Promise.all(states.map((s) => s.value()));

describe("one component providing two surfaces (dev.uni.analytics)", () => {
  it("registers its CRDT kinds and its logical type from one load, under one plugin", async () => {
    const { host, handle } = await hostWith("analytics-v1");
    const infos = host.plugins();
    expect(infos.map((p) => `${p.id}@${p.version}`)).to.deep.equal(["dev.uni.analytics@1.0.0"]);
    expect(infos[0]?.registered).to.deep.equal(ANALYTICS_KEYS);
    expect(infos[0]?.capabilities).to.include.members(["crdt", "logical-type"]);
    for (const [surface, key] of [
      ["crdt", "pn-counter"],
      ["crdt", "g-counter"],
      ["logical-type", "geo.point"],
    ] as const) {
      expect(host.provider(surface, key)?.generation, `${surface} "${key}"`).to.equal(handle.generation);
    }
    host.dispose();
  });

  it("serves both surfaces: counters converge and geo.point parses and displays WKT", async () => {
    const { host } = await hostWith("analytics-v1");
    const [likes, views] = await counters(host);
    expect(await values([likes as LiveCrdt, views as LiveCrdt])).to.deep.equal([7, 9]);
    const replica = await host.createCrdt("likes-replica", "pn-counter");
    await replica.apply(["c", -2]);
    await (likes as LiveCrdt).merge(replica);
    expect(await (likes as LiveCrdt).value()).to.equal(5);

    const geo = host.logicalType("geo.point");
    expect(await geo.arrowType()).to.equal("FixedSizeList[2]<Float64>");
    const stored = await geo.fromLiteral(POINTS);
    expect(rows(stored)).to.deep.equal([[13.4, 52.52], [-73.99, 40.73], null, [0, 0]]);
    expect(await geo.toDisplay(stored)).to.deep.equal(POINTS);
    host.dispose();
  });

  it("provides exactly what its manifest lists: other kinds of the crdt/types samples are not found", async () => {
    const { host } = await hostWith("analytics-v1");
    await expectRejects(host.createCrdt("tags", "or-set"), { code: ErrorCode.NotFound, message: '"or-set"' });
    expectThrows(() => host.logicalType("uuid"), { code: ErrorCode.NotFound, message: '"uuid"' });
    host.dispose();
  });

  it("loading crdt-v1 after it is a DuplicateKey error that registers none of crdt-v1's kinds", async () => {
    const { host } = await hostWith("analytics-v1");
    const [likes] = await counters(host);
    const err = await expectRejects(host.load(await plugin("crdt-v1")), {
      code: ErrorCode.DuplicateKey,
      message: ["dev.uni.analytics@1.0.0", "dev.uni.crdt@1.0.0"],
      pluginId: "dev.uni.crdt",
      retryable: false,
    });
    expect(err).to.be.instanceOf(RegistryError);
    expect(err.message).to.match(/crdt "(g-counter|pn-counter)" is already provided/);
    expect(host.plugins().map((p) => p.id)).to.deep.equal(["dev.uni.analytics"]);
    expect(host.plugins()[0]?.registered).to.deep.equal(ANALYTICS_KEYS);
    expect(host.provider("crdt", "or-set")).to.equal(undefined);
    expect(host.provider("crdt", "lww-register")).to.equal(undefined);
    await (likes as LiveCrdt).apply(["z", 1]);
    expect(await (likes as LiveCrdt).value()).to.equal(8);
    host.dispose();
  });

  it("loading types-v1 after it is a DuplicateKey error on geo.point that leaves uuid unregistered", async () => {
    const { host } = await hostWith("analytics-v1");
    const err = await expectRejects(host.load(await plugin("types-v1")), {
      code: ErrorCode.DuplicateKey,
      message: ['logical-type "geo.point"', "dev.uni.analytics@1.0.0", "dev.uni.types@1.0.0"],
      pluginId: "dev.uni.types",
    });
    expect(err).to.be.instanceOf(RegistryError);
    expect(host.plugins().map((p) => p.id)).to.deep.equal(["dev.uni.analytics"]);
    expect(host.provider("logical-type", "uuid")).to.equal(undefined);
    expect(
      await host.logicalType("geo.point").toDisplay(await host.logicalType("geo.point").fromLiteral(POINTS)),
    ).to.deep.equal(POINTS);
    host.dispose();
  });

  it("loaded after crdt-v1 it is refused whole: its non-colliding geo.point is not registered either", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    await expectRejects(host.load(await plugin("analytics-v1")), {
      code: ErrorCode.DuplicateKey,
      message: ["dev.uni.crdt@1.0.0", "dev.uni.analytics@1.0.0"],
      pluginId: "dev.uni.analytics",
    });
    expect(host.plugins().map((p) => p.id)).to.deep.equal(["dev.uni.crdt"]);
    expect(host.provider("logical-type", "geo.point")).to.equal(undefined);
    expect(host.provider("crdt", "pn-counter")?.generation).to.equal(handle.generation);
    host.dispose();
  });

  it("reload v1 → v2 moves the live CRDT states with equal values; geo.point literals seen in traffic round-trip", async () => {
    const { host, handle } = await hostWith("analytics-v1");
    const states = await counters(host);
    const before = await values(states);
    const geo = host.logicalType("geo.point");
    const stored = await geo.fromLiteral(POINTS); // traffic: the reload checks these literals on v2 too
    const displayed = await geo.toDisplay(stored);
    // v1 persists the crdt sample's format 1 (a MessagePack map); v2 must write format 2 (magic c1 75 63 02).
    expect((await (states[0] as LiveCrdt).persist())[0]).to.equal(0x83);

    const report = await host.reload(handle, await plugin("analytics-v2"));

    expect(report.ok).to.equal(true);
    expect(report.to?.version).to.equal("2.0.0");
    expect(report.moved.crdtStates).to.equal(2);
    expect(states.every((s) => s.servedBy.version === "2.0.0")).to.equal(true);
    expect(await values(states)).to.deep.equal(before);
    expect([...(await (states[0] as LiveCrdt).persist()).subarray(0, 4)]).to.deep.equal([0xc1, 0x75, 0x63, 0x02]);
    expect(host.plugins()[0]?.registered).to.deep.equal(ANALYTICS_KEYS);
    expect(host.provider("logical-type", "geo.point")?.version).to.equal("2.0.0");
    expect(await geo.toDisplay(stored)).to.deep.equal(displayed);
    expect(rows(await geo.fromLiteral(POINTS))).to.deep.equal(rows(stored));

    await (states[1] as LiveCrdt).apply(["c", 1]);
    expect(await (states[1] as LiveCrdt).value()).to.equal(10);
    host.dispose();
  });
});
