// The crdt client against the real AssemblyScript sample (plugins-wasm/dist/crdt-v1, crdt-v2).
// g-counter: op = MessagePack [replica, n]; value = MessagePack uint (sum of per-replica counts).
import { decode, encode } from "@msgpack/msgpack";
import { describe, expect, it } from "#test";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, PluginCallError, type PluginError } from "../../src/errors.ts";
import { loadPlugin } from "../support/fixtures.ts";

async function crdt(name: string) {
  const module = await ComponentModule.compile(await loadPlugin(name));
  const instance = await ComponentInstance.instantiate(module, { pluginId: `dev.uni.${name}`, grants: new Set() });
  return { instance, client: instance.crdt as NonNullable<ComponentInstance["crdt"]> };
}

describe("crdt surface (crdt-v1 sample)", () => {
  it("applies ops, merges persisted states and reads the value", async () => {
    const { client } = await crdt("crdt-v1");
    expect(client.kinds()).to.include("g-counter");
    const a = client.empty("g-counter");
    a.apply(encode(["a", 2]));
    a.apply(encode(["b", 3]));
    expect(decode(a.value())).to.equal(5);

    const b = client.empty("g-counter");
    b.apply(encode(["a", 4]));
    a.merge(b.persist());
    // per-replica max: a = max(2, 4) = 4, b = 3
    expect(decode(a.value())).to.equal(7);
    const reopened = client.fromPersisted("g-counter", a.persist());
    expect(decode(reopened.value())).to.equal(7);
  });

  it("reports malformed ops and persisted bytes as fn-errors, never traps", async () => {
    const { client, instance } = await crdt("crdt-v1");
    const state = client.empty("g-counter");
    let err: PluginError | undefined;
    try {
      state.apply(new Uint8Array([0xc1]));
    } catch (e) {
      err = e as PluginError;
    }
    expect(err).to.be.instanceOf(PluginCallError);
    try {
      client.fromPersisted("g-counter", new Uint8Array([1, 2, 3]));
      err = undefined;
    } catch (e) {
      err = e as PluginError;
    }
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err?.message).not.to.contain("[object Object]");
    expect(instance.poisoned).to.equal(false);
  });

  it("hands a state from v1 to v2 through a lent view (one copy)", async () => {
    const v1 = await crdt("crdt-v1");
    const v2 = await crdt("crdt-v2");
    const old = v1.client.empty("g-counter");
    old.apply(encode(["r1", 10]));
    old.apply(encode(["r2", 1]));
    const moved = old.persistLent((view) => v2.client.fromPersisted("g-counter", view));
    expect(decode(moved.value())).to.equal(11);
    // The old state still serves.
    expect(decode(old.value())).to.equal(11);
  });

  it("drops states on dispose and refuses later calls", async () => {
    const { instance, client } = await crdt("crdt-v1");
    const s = client.empty("g-counter");
    client.empty("or-set");
    expect(instance.liveHandles().crdt).to.equal(2);
    instance.dispose();
    expect(instance.liveHandles().crdt).to.equal(0);
    expect(s.dropped).to.equal(true);
    let code = 0;
    try {
      s.value();
    } catch (e) {
      code = (e as PluginError).code;
    }
    expect(code).to.equal(ErrorCode.Disposed);
  });
});
