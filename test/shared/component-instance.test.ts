// Instances: calls, fn-errors, the trap policy, dispose, resource tables and the memory ceiling,
// against the index-echo fixture (see test/fixtures/wat/index-echo.wat for its behaviours).
import { describe, expect, it } from "#test";
import { ComponentInstance, ComponentModule, type LogLevel } from "../../src/component/mod.ts";
import { ErrorCode, PluginCallError, TrapError } from "../../src/errors.ts";
import { loadFixture } from "../support/fixtures.ts";
import { thrown } from "../support/errors.ts";

async function echo(ceiling?: number) {
  const module = await ComponentModule.compile(
    await loadFixture("index-echo"),
    ceiling === undefined ? {} : { memoryPagesCeiling: ceiling },
  );
  const logs: string[] = [];
  const instance = await ComponentInstance.instantiate(module, {
    pluginId: "test.echo",
    grants: new Set(),
    log: (level: LogLevel, message: string) => logs.push(`${level}:${message}`),
  });
  return { instance, index: instance.index as NonNullable<ComponentInstance["index"]>, logs };
}

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe("ComponentInstance", () => {
  it("returns the manifest and only the exported surfaces", async () => {
    const { instance } = await echo();
    expect(JSON.parse(instance.manifest()).id).to.equal("test.fixture.index-echo");
    expect(instance.index).not.to.equal(undefined);
    expect(instance.cdc).to.equal(undefined);
    expect(instance.crdt).to.equal(undefined);
    expect(instance.logicalType).to.equal(undefined);
  });

  it("builds, probes, persists and reads the schema through the index client", async () => {
    const { index, logs } = await echo();
    expect(index.kinds()).to.deep.equal(["echo", "grow"]);
    const handle = index.build("echo", bytes(1, 2, 3), "{}");
    expect(logs).to.deep.equal(["info:built an echo index"]);
    expect([...handle.persist()]).to.deep.equal([1, 2, 3]);
    expect([...handle.schema()]).to.deep.equal([1, 2, 3]);
    expect([...handle.probe(bytes(9, 8), 4)]).to.deep.equal([9, 8]);
    expect(handle.supportsFilter()).to.equal(true);
    expect([...handle.probeFiltered(bytes(1), 1, bytes(0b101))]).to.deep.equal([0b101]);
  });

  it("turns a fn-error into PluginCallError without poisoning", async () => {
    const { instance, index } = await echo();
    const err = thrown(() => index.build("nope", bytes()));
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err.toJSON()).to.deep.equal({
      name: "PluginCallError",
      code: 0x101,
      message: "unknown index kind",
      retryable: false,
      pluginId: "test.echo",
    });
    const retry = thrown(() => index.open("echo", bytes()));
    expect(retry.code).to.equal(ErrorCode.TypeCoercion);
    expect(retry.retryable).to.equal(true);
    expect(instance.poisoned).to.equal(false);
    expect(index.kinds()).to.deep.equal(["echo", "grow"]);
  });

  it("refuses bad host-side input with a typed error before entering wasm", async () => {
    const { instance, index } = await echo();
    const handle = index.build("echo", bytes(1));
    for (const call of [
      () => index.build(42 as unknown as string, bytes()),
      () => index.build("echo", [1, 2] as unknown as Uint8Array),
      () => handle.probe(bytes(), -1),
      () => handle.probe(bytes(), 1.5),
      () => handle.probe({} as unknown as Uint8Array, 1),
    ]) {
      const err = thrown(call);
      expect(err.code).to.equal(ErrorCode.TypeCoercion);
      expect(err.message).not.to.contain("[object Object]");
    }
    expect(instance.poisoned).to.equal(false);
  });

  it("poisons the instance on a trap mid-call; later calls are refused without entering wasm", async () => {
    const { instance, index } = await echo();
    const handle = index.build("echo", bytes(1, 2));
    const other = index.build("echo", bytes(3));
    const trap = thrown(() => handle.probe(bytes(0), 0xdead));
    expect(trap).to.be.instanceOf(TrapError);
    expect(trap.code).to.equal(ErrorCode.Trap);
    expect(trap.pluginId).to.equal("test.echo");
    expect(trap.message).to.contain("index-handle.probe");
    expect(trap.message).to.contain("unreachable");
    expect(instance.poisoned).to.equal(true);

    // The guest clobbered the handle's length before trapping; a call that entered wasm would see it.
    for (const call of [
      () => handle.persist(),
      () => other.persist(),
      () => index.kinds(),
      () => instance.manifest(),
    ]) {
      const err = thrown(call);
      expect(err).to.be.instanceOf(TrapError);
      expect(err.code).to.equal(ErrorCode.Poisoned);
      expect(err.message).to.contain("poisoned");
    }
  });

  it("treats a stack overflow as a trap", async () => {
    const { instance, index } = await echo();
    const handle = index.build("echo", bytes(1));
    const err = thrown(() => handle.probe(bytes(0), 0xbeef));
    expect(err.code).to.equal(ErrorCode.Trap);
    expect(instance.poisoned).to.equal(true);
  });

  it("treats a throwing host import as a trap", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"));
    const instance = await ComponentInstance.instantiate(module, {
      pluginId: "test.echo",
      grants: new Set(),
      log: () => {
        throw new Error("log sink is broken");
      },
    });
    const err = thrown(() => instance.index?.build("echo", bytes(1)));
    expect(err.code).to.equal(ErrorCode.Trap);
    expect(err.message).to.contain("log sink is broken");
    expect(thrown(() => instance.index?.kinds()).code).to.equal(ErrorCode.Poisoned);
  });

  it("drops resources: the guest destructor runs once, the handle goes stale", async () => {
    const { instance, index, logs } = await echo();
    const handle = index.build("echo", bytes(1));
    expect(instance.liveHandles().index).to.equal(1);
    handle.drop();
    handle.drop(); // idempotent
    expect(logs.filter((l) => l === "debug:dropped")).to.have.length(1);
    expect(instance.liveHandles().index).to.equal(0);
    expect(handle.dropped).to.equal(true);
    expect(thrown(() => handle.persist()).code).to.equal(ErrorCode.StaleHandle);
    expect(instance.poisoned).to.equal(false);
  });

  it("links [resource-rep] and [resource-drop]: a guest dropping its own handle runs the destructor", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-intrinsics"));
    const logs: string[] = [];
    const instance = await ComponentInstance.instantiate(module, {
      pluginId: "test.intrinsics",
      grants: new Set(),
      log: (level, message) => logs.push(`${level}:${message}`),
    });
    const index = instance.index as NonNullable<ComponentInstance["index"]>;
    // build creates reps 1 and 2, checks [resource-rep] for both (it traps otherwise), drops 1 itself.
    const handle = index.build("intrinsics", bytes());
    expect(logs).to.deep.equal(["debug:dropped 1"]);
    expect(instance.liveHandles().index).to.equal(1);
    handle.drop();
    expect(logs).to.deep.equal(["debug:dropped 1", "debug:dropped 2"]);
    expect(instance.liveHandles().index).to.equal(0);
    expect(instance.poisoned).to.equal(false);
  });

  it("dispose drops every live resource and refuses later calls with Disposed", async () => {
    const { instance, index, logs } = await echo();
    const a = index.build("echo", bytes(1));
    const b = index.build("echo", bytes(2));
    index.build("echo", bytes(3)).drop();
    instance.dispose();
    expect(logs.filter((l) => l === "debug:dropped")).to.have.length(3);
    expect(a.dropped && b.dropped).to.equal(true);
    expect(instance.liveHandles().index).to.equal(0);
    expect(instance.disposed).to.equal(true);
    for (const call of [() => a.persist(), () => index.kinds(), () => instance.manifest()]) {
      expect(thrown(call).code).to.equal(ErrorCode.Disposed);
    }
    instance.dispose(); // idempotent
  });

  it("moves persisted bytes from instance A to instance B through a lent view", async () => {
    const a = await echo();
    const b = await echo();
    const payload = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
    const old = a.index.build("echo", payload);
    let lentLength = -1;
    const moved = old.persistLent((view) => {
      lentLength = view.length;
      // The view is straight into A's linear memory, not a copy.
      expect(view.buffer).to.equal((a.instance.core.memory as WebAssembly.Memory).buffer);
      return b.index.open("echo", view);
    });
    expect(lentLength).to.equal(payload.length);
    expect(moved.persist()).to.deep.equal(payload);
    // A is untouched and still serving.
    expect(old.persist()).to.deep.equal(payload);
  });

  it("still runs post-return when the lent callback throws", async () => {
    const { instance, index } = await echo();
    const handle = index.build("echo", bytes(5));
    expect(() =>
      handle.persistLent(() => {
        throw new Error("callback failed");
      }),
    ).to.throw("callback failed");
    expect(instance.poisoned).to.equal(false);
    expect([...handle.persist()]).to.deep.equal([5]);
  });

  it("refuses an async lent callback: the view would outlive the call", async () => {
    const { instance, index } = await echo();
    const handle = index.build("echo", bytes(5));
    const err = thrown(() => handle.persistLent(async (view) => view.length));
    expect(err.code).to.equal(ErrorCode.TypeCoercion);
    expect(err.message).to.contain("promise");
    expect(instance.poisoned).to.equal(false);
  });

  it("enforces the host memory ceiling: growth past it fails, memory never exceeds it", async () => {
    const ceiling = 2;
    const { instance, index } = await echo(ceiling);
    // The guest itself asks for more: memory.grow returns -1 and it reports fn-error 4.
    const refused = thrown(() => index.build("grow", bytes()));
    expect(refused).to.be.instanceOf(PluginCallError);
    expect(refused.code).to.equal(ErrorCode.ResourceLimit);
    // An argument that cannot fit: the guest allocator traps, and the report says why.
    const trap = thrown(() => index.build("echo", new Uint8Array(3 * 65536)));
    expect(trap.code).to.equal(ErrorCode.Trap);
    expect(trap.message).to.contain("host ceiling 2 pages");
    expect(instance.memoryBytes()).to.be.at.most(ceiling * 65536);
  });

  it("lets the host set the plugin id after reading the manifest", async () => {
    const { instance, index } = await echo();
    instance.pluginId = "dev.uni.renamed";
    expect(thrown(() => index.build("nope", bytes())).pluginId).to.equal("dev.uni.renamed");
  });
});
