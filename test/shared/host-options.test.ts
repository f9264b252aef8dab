// PluginHost options: the memory ceiling (always wins over what a plugin asks) and host-log routing.
import { makeVector, Table } from "apache-arrow";
import { describe, expect, it } from "#test";
import { ErrorCode, LoadError, PluginHost } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { expectNothingRegistered, expectRejects, seededFloats, vectorTable } from "./host-util.ts";

describe("PluginHost options", () => {
  it("refuses a component whose initial memory exceeds memoryPagesCeiling, registering nothing", async () => {
    const host = new PluginHost({ memoryPagesCeiling: 2 });
    const err = await expectRejects(host.load(await loadFixture("index-echo-3-pages")), {
      code: ErrorCode.ResourceLimit,
      message: ["3 pages", "2 pages"],
    });
    expect(err).to.be.instanceOf(LoadError);
    expectNothingRegistered(host, [["index", "echo"]]);
    // The same plugin with 1 initial page fits.
    expect((await host.load(await loadFixture("index-echo"))).id).to.equal("test.fixture.index-echo");
  });

  it("keeps a plugin under the ceiling even when its manifest asks for more", async () => {
    // vector-flat-v1 asks for limits.memory_pages = 8192 (512 MiB); the host's 64 pages (4 MiB) win.
    const host = new PluginHost({ memoryPagesCeiling: 64 });
    await host.load(await loadPlugin("vector-flat-v1"));
    expect(host.plugins()[0]?.manifest.limits.memory_pages).to.equal(8192);
    const small = await host.createIndex("small", "vector.flat", vectorTable([1n, 2n], seededFloats(1, 16), 8));
    expect((await small.persist()).length).to.be.greaterThan(0);
    // 6.4 MB of vectors cannot fit in 4 MiB: a typed failure that names the ceiling, not a crash.
    const rows = 200_000;
    const ids = Array.from({ length: rows }, (_, i) => BigInt(i));
    const err = await expectRejects(
      host.createIndex("big", "vector.flat", vectorTable(ids, seededFloats(2, rows * 8), 8)),
      {
        pluginId: "dev.uni.vector-flat",
        message: "64 pages",
      },
    );
    expect([ErrorCode.ResourceLimit, ErrorCode.Trap]).to.include(err.code);
    expect(host.index("big")).to.equal(undefined);
  });

  it("routes host-log output to onLog with the plugin id and level", async () => {
    const entries: { pluginId: string; level: string; message: string }[] = [];
    const host = new PluginHost({ onLog: (e) => entries.push(e) });
    await host.load(await loadFixture("index-echo"));
    const idx = await host.createIndex("logged", "echo", new Uint8Array([1]));
    expect(entries).to.deep.include({
      pluginId: "test.fixture.index-echo",
      level: "info",
      message: "built an echo index",
    });
    await idx.drop();
    expect(entries).to.deep.include({ pluginId: "test.fixture.index-echo", level: "debug", message: "dropped" });
  });
});

describe("a manifest's own memory limit", () => {
  it("applies when it is lower than the host's ceiling: the plugin cannot grow past what it asked for", async () => {
    // changelog-v1 asks for limits.memory_pages = 256 (16 MiB); the host's default ceiling is 1 GiB.
    const host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("changelog-v1"));
    expect(host.plugins()[0]?.manifest.limits.memory_pages).to.equal(256);
    const stream = await host.attachCdc("big", "changelog");
    stream.onEmit(() => {});
    // 24 MiB of mutations cannot be copied into 16 MiB of linear memory.
    const rows = 3_000_000;
    const wide = new Table({ v: makeVector(new Float64Array(rows)) });
    const err = await expectRejects(stream.publish(wide), { message: "256 pages" });
    expect([ErrorCode.Trap, ErrorCode.ResourceLimit]).to.include(err.code);
    // Under its own limit the same plugin, freshly loaded, serves as usual.
    const again = new PluginHost({ onLog: () => {} });
    await again.load(await loadPlugin("changelog-v1"));
    const ok = await again.attachCdc("small", "changelog");
    ok.onEmit(() => {});
    expect(await ok.publish(new Table({ v: makeVector(new Float64Array(1000)) }))).to.deep.equal({
      lsnStart: 0n,
      lsnEnd: 1000n,
    });
    host.dispose();
    again.dispose();
  });
});
