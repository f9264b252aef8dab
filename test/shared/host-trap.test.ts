// A trap mid-call through the host: the call fails with TrapError, that plugin's instance is poisoned (later calls
// fail fast with the Poisoned code), and every other plugin keeps serving. index-echo traps on probe with
// k = 0xdead after clobbering its handle (test/fixtures/wat/index-echo.wat), so a call that still entered wasm
// would see the damage.
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, type LiveCrdt, type LiveIndex, type PluginHandle, PluginHost, TrapError } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { expectRejects, hitsOf, seededFloats, vectorColumn, vectorTable } from "./host-util.ts";
import { Table } from "apache-arrow";

const TRAP_K = 0xdead;

describe("a trap mid-call through the host", () => {
  let host: PluginHost;
  let echo: PluginHandle;
  let trapped: LiveIndex;
  let sibling: LiveIndex;
  let counter: LiveCrdt;
  let vectors: LiveIndex;

  beforeAll(async () => {
    host = new PluginHost();
    echo = await host.load(await loadFixture("index-echo"));
    await host.load(await loadPlugin("crdt-v1"));
    await host.load(await loadPlugin("vector-flat-v1"));
    trapped = await host.createIndex("trapped", "echo", new Uint8Array([1, 2, 3]));
    sibling = await host.createIndex("sibling", "echo", new Uint8Array([4, 5]));
    counter = await host.createCrdt("counter", "g-counter");
    await counter.apply(["r", 1]);
    vectors = await host.createIndex("vectors", "vector.flat", vectorTable([1n, 2n], seededFloats(3, 8), 4));
  });

  it("fails the call with TrapError naming the plugin and the call", async () => {
    const err = await expectRejects(trapped.probeIPC(new Uint8Array([0]), TRAP_K), {
      code: ErrorCode.Trap,
      pluginId: "test.fixture.index-echo",
      message: "probe",
    });
    expect(err).to.be.instanceOf(TrapError);
  });

  it("poisons that plugin: every later call fails fast with Poisoned, on every resource", async () => {
    for (const call of [
      () => trapped.persist(),
      () => sibling.persist(),
      () => sibling.probeIPC(new Uint8Array([9]), 1),
      () => host.createIndex("fresh", "echo", new Uint8Array([7])),
      () => host.openIndex("reopened", "echo", new Uint8Array([7])),
    ]) {
      const err = await expectRejects(call(), { code: ErrorCode.Poisoned, pluginId: "test.fixture.index-echo" });
      expect(err).to.be.instanceOf(TrapError);
    }
    expect(host.index("fresh")).to.equal(undefined);
  });

  it("keeps every other plugin serving", async () => {
    await counter.apply(["r", 41]);
    expect(await counter.value()).to.equal(42);
    const query = new Table({ vector: vectorColumn(seededFloats(3, 4), 4) });
    expect(hitsOf(await vectors.probe(query, 1)).map((h) => h.id)).to.deep.equal([1n]);
    expect(await (await host.createCrdt("after-trap", "or-set")).value()).to.deep.equal([]);
  });

  it("lets the poisoned plugin be force-unloaded and loaded afresh", async () => {
    await host.unload(echo, { force: true });
    expect(host.provider("index", "echo")).to.equal(undefined);
    await expectRejects(trapped.persist(), { code: ErrorCode.Disposed });
    const again = await host.load(await loadFixture("index-echo"));
    expect(again.generation).to.be.greaterThan(echo.generation);
    const idx = await host.createIndex("trapped", "echo", new Uint8Array([8, 9]));
    expect([...(await idx.persist())]).to.deep.equal([8, 9]);
  });
});
