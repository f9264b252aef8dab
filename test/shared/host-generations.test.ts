// Generations: every installed version of a plugin id gets a generation that is never reused, so a handle names
// exactly one version. A stale handle is refused; unload is refused while live resources use the plugin.
import { describe, expect, it } from "#test";
import { ErrorCode, type PluginError, PluginHost, RegistryError, ReloadError } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { expectRejects, expectThrows } from "./host-util.ts";

describe("plugin generations", () => {
  it("refuses the old handle after a reload, while the new one works", async () => {
    const host = new PluginHost();
    const v1 = await host.load(await loadPlugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 3]);
    const report = await host.reload(v1, await loadPlugin("crdt-v2"));
    const v2 = report.to;
    expect(v2?.version).to.equal("2.0.0");
    expect(v2?.generation).to.be.greaterThan(v1.generation);
    expect(host.provider("crdt", "pn-counter")).to.deep.equal(v2);
    expect(await likes.value()).to.equal(3);

    const stale = { code: ErrorCode.StaleHandle, message: ["stale", "dev.uni.crdt"], pluginId: "dev.uni.crdt" };
    expect(await expectRejects(host.unload(v1), stale)).to.be.instanceOf(RegistryError);
    await expectRejects(host.lease(v1), stale);
    const err = await expectRejects(host.reload(v1, await loadPlugin("crdt-v2")), { message: "stale" });
    expect(err).to.be.instanceOf(ReloadError);
    expect((err as ReloadError).step).to.equal("validate");
    expect((err.cause as PluginError | undefined)?.code).to.equal(ErrorCode.StaleHandle);
    // Nothing changed: v2 still serves the state.
    expect(host.provider("crdt", "pn-counter")).to.deep.equal(v2);
    expect(await likes.value()).to.equal(3);
  });

  it("gives a NEW, higher generation to a plugin unloaded and loaded again", async () => {
    const host = new PluginHost();
    const bytes = await loadFixture("index-echo");
    const first = await host.load(bytes);
    await host.unload(first);
    expect(host.plugins()).to.deep.equal([]);
    expect(host.provider("index", "echo")).to.equal(undefined);
    const second = await host.load(bytes);
    expect(second.id).to.equal(first.id);
    expect(second.generation).to.be.greaterThan(first.generation);
    // The first handle names a version that is gone: refused, and the second is untouched.
    await expectRejects(host.unload(first), { code: ErrorCode.StaleHandle });
    expect(host.plugins().map((p) => p.generation)).to.deep.equal([second.generation]);
  });

  it("refuses a handle whose plugin is not loaded at all", async () => {
    const host = new PluginHost();
    const handle = await host.load(await loadFixture("index-echo"));
    await host.unload(handle);
    await expectRejects(host.unload(handle), { code: ErrorCode.NotFound, message: "test.fixture.index-echo" });
  });

  it("refuses unload while live resources exist, naming them; the plugin keeps serving", async () => {
    const host = new PluginHost();
    const handle = await host.load(await loadFixture("index-echo"));
    const idx = await host.createIndex("busy", "echo", new Uint8Array([1, 2]));
    const err = await expectRejects(host.unload(handle), {
      code: ErrorCode.Forbidden,
      message: ['"busy"', "force"],
      pluginId: "test.fixture.index-echo",
    });
    expect(err).to.be.instanceOf(RegistryError);
    expect(host.provider("index", "echo")).to.deep.equal(handle);
    expect([...(await idx.persist())]).to.deep.equal([1, 2]);

    // Once the resource is dropped, a plain unload goes through.
    await idx.drop();
    await host.unload(handle);
    expect(host.plugins()).to.deep.equal([]);
  });

  it("unloads with { force: true }, dropping the live resources", async () => {
    const host = new PluginHost();
    const handle = await host.load(await loadPlugin("crdt-v1"));
    const state = await host.createCrdt("doomed", "g-counter");
    await host.unload(handle, { force: true });
    expect(host.plugins()).to.deep.equal([]);
    expect(host.provider("crdt", "g-counter")).to.equal(undefined);
    expect(host.crdt("doomed")).to.equal(undefined);
    expect(state.dropped).to.equal(true);
    await expectRejects(state.value(), { code: ErrorCode.Disposed });
    // A new resource of that kind has no provider now.
    await expectRejects(host.createCrdt("doomed", "g-counter"), { code: ErrorCode.NotFound });
  });

  it("refuses every call on a disposed host", async () => {
    const host = new PluginHost();
    await host.load(await loadPlugin("crdt-v1"));
    host.dispose();
    expect(host.plugins()).to.deep.equal([]);
    await expectRejects(host.load(await loadPlugin("crdt-v1")), { code: ErrorCode.Disposed });
    expectThrows(() => host.logicalType("geo.point"), { code: ErrorCode.Disposed });
  });
});
