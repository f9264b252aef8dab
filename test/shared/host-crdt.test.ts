// CRDT surface end to end through the host, against the real AssemblyScript sample (plugins-wasm/dist/crdt-v1).
// Op and value shapes (MessagePack, see test/plugins/as-crdt.test.ts): g-counter and pn-counter [replica, n];
// lww-register [timestamp, replica, value] → value; or-set ["add", element, tag] | ["remove", element, [tags]]
// → the present elements, sorted.
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects } from "./host-util.ts";

describe("crdt surface through the host (crdt-v1)", () => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost();
    await host.load(await loadPlugin("crdt-v1"));
  });

  it("applies, merges two live states both ways, and reads equal values", async () => {
    const a = await host.createCrdt("likes-a", "pn-counter");
    const b = await host.createCrdt("likes-b", "pn-counter");
    await a.apply(["replica-a", 5]);
    await a.apply(["replica-a", -2]);
    await b.apply(["replica-b", 4]);
    await b.apply(["replica-a", 1]);
    expect(await a.value()).to.equal(3);
    expect(await b.value()).to.equal(5);
    // Per replica, increments and decrements merge by max: a = max(5, 1) - 2 = 3, b = 4.
    await a.merge(b);
    expect(await a.value()).to.equal(7);
    await b.merge(await a.persist());
    expect(await b.value()).to.equal(7);
    await a.merge(b); // idempotent
    expect(await a.value()).to.equal(7);
    expect(host.crdt("likes-a")).to.equal(a);
    expect(a.kind).to.equal("pn-counter");
  });

  it("persists and reopens a state from its bytes, here and on a fresh host", async () => {
    const views = await host.createCrdt("views", "g-counter");
    await views.apply(["r1", 10]);
    await views.apply(["r2", 32]);
    const bytes = await views.persist();
    const reopened = await host.createCrdt("views-reopened", "g-counter", bytes);
    expect(await reopened.value()).to.equal(42);
    const fresh = new PluginHost();
    await fresh.load(await loadPlugin("crdt-v1"));
    expect(await (await fresh.createCrdt("views", "g-counter", bytes)).value()).to.equal(42);
  });

  it("resolves a last-writer-wins register by timestamp across merges", async () => {
    const a = await host.createCrdt("title-a", "lww-register");
    const b = await host.createCrdt("title-b", "lww-register");
    expect(await a.value()).to.equal(null);
    await a.apply([1, "a", "draft"]);
    await b.apply([2, "b", "final"]);
    await a.merge(b);
    await b.merge(a);
    expect(await a.value()).to.equal("final");
    expect(await b.value()).to.equal("final");
  });

  it("merges observed-remove sets: a remove only removes the tags it saw", async () => {
    const a = await host.createCrdt("tags-a", "or-set");
    const b = await host.createCrdt("tags-b", "or-set");
    await a.apply(["add", "x", "t1"]);
    await a.apply(["add", "y", "t2"]);
    await b.merge(a);
    await b.apply(["remove", "x", ["t1"]]);
    await a.apply(["add", "x", "t3"]); // concurrent re-add with a tag b never saw
    await b.apply(["add", "z", "t4"]);
    await a.merge(b);
    await b.merge(a);
    expect(await a.value()).to.deep.equal(["x", "y", "z"]);
    expect(await b.value()).to.deep.equal(["x", "y", "z"]);
  });

  it("refuses malformed ops and foreign state bytes as plugin errors, leaving the state unchanged", async () => {
    const s = await host.createCrdt("strict", "g-counter");
    await s.apply(["r", 2]);
    const err = await expectRejects(s.apply(new Uint8Array([0xc1])), { pluginId: "dev.uni.crdt", retryable: false });
    expect(err).to.be.instanceOf(PluginCallError);
    await expectRejects(s.apply(["r", "not a number"]), { pluginId: "dev.uni.crdt" });
    await expectRejects(s.merge(new Uint8Array([1, 2, 3])), { pluginId: "dev.uni.crdt" });
    const other = await host.createCrdt("other-kind", "or-set");
    await other.apply(["add", "x", "t"]);
    await expectRejects(s.merge(other), { pluginId: "dev.uni.crdt" });
    expect(await s.value()).to.equal(2);
    await expectRejects(host.createCrdt("junk", "g-counter", new Uint8Array([9, 9, 9])), { pluginId: "dev.uni.crdt" });
    expect(host.crdt("junk")).to.equal(undefined);
  });

  it("refuses an unknown kind, a taken name, and calls on a dropped state", async () => {
    await expectRejects(host.createCrdt("c", "mv-register"), { code: ErrorCode.NotFound, message: "mv-register" });
    const s = await host.createCrdt("once", "g-counter");
    await expectRejects(host.createCrdt("once", "g-counter"), { code: ErrorCode.DuplicateKey, message: '"once"' });
    await s.drop();
    expect(host.crdt("once")).to.equal(undefined);
    await expectRejects(s.value(), { code: ErrorCode.Disposed, message: "dropped" });
    // The name is free again.
    expect(await (await host.createCrdt("once", "g-counter")).value()).to.equal(0);
  });

  it("lists live states among the plugin's resources", async () => {
    await host.createCrdt("listed", "or-set");
    const info = host.plugins().find((p) => p.id === "dev.uni.crdt");
    expect(info?.resources).to.deep.include({ surface: "crdt", name: "listed", key: "or-set" });
  });
});
