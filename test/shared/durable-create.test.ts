// A durable host's create is all or nothing: when the plugin cannot take the first snapshot of a new resource
// (its persist refuses), the create rejects with the plugin's typed error and leaves nothing behind — no live
// resource, nothing in the store, the name free — in memory and after a restart.
import { Bool, Float64, Table, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "#test";
import { ErrorCode, PluginHost } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import { loadRustFixture } from "../support/fixtures.ts";
import { expectRejects } from "./host-util.ts";

describe("durable host: a create whose first snapshot fails leaves nothing behind", () => {
  it("arrow.echo reads a Bool column but cannot persist it: the index is not created, the name stays free", async () => {
    const storage = new MemoryStorage();
    const host = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    await host.load(await loadRustFixture("arrow-echo"));
    const bools = new Table({ flag: vectorFromArray([true, false, null], new Bool()) });
    await expectRejects(host.createIndex("echo", "arrow.echo", bools), { code: ErrorCode.TypeCoercion });
    expect(host.index("echo")).to.equal(undefined);
    expect(host.plugins()[0]?.resources).to.deep.equal([]);
    // The name is free: a table the plugin can keep is created under it.
    const numbers = new Table({ x: vectorFromArray([1.5, 2.5], new Float64()) });
    const echo = await host.createIndex("echo", "arrow.echo", numbers);
    expect(echo.kind).to.equal("arrow.echo");
    host.dispose();
    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    expect(report.resources).to.deep.equal([{ surface: "index", name: "echo" }]);
    again.dispose();
  });
});
