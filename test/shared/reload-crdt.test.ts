// Reload of CRDT kinds: every live state moves to v2 with an equal value and keeps converging with
// other states; v2-incompatible is refused at check-compat naming the kind, values untouched.
import { describe, expect, it } from "#test";
import type { LiveCrdt, PluginHost } from "../../src/mod.ts";
import { hostWith, plugin, refused } from "./reload-util.ts";

/** One live state per kind, each with a history of ops from two replicas. */
async function populate(host: PluginHost): Promise<LiveCrdt[]> {
  const g = await host.createCrdt("views", "g-counter");
  await g.apply(["a", 3]);
  await g.apply(["b", 4]);
  const pn = await host.createCrdt("likes", "pn-counter");
  await pn.apply(["a", 10]);
  await pn.apply(["b", -3]);
  const lww = await host.createCrdt("title", "lww-register");
  await lww.apply([5, "a", "first"]);
  await lww.apply([9, "b", "second"]);
  const set = await host.createCrdt("tags", "or-set");
  await set.apply(["add", "red", "a1"]);
  await set.apply(["add", "blue", "a2"]);
  await set.apply(["add", "green", "b1"]);
  await set.apply(["remove", "blue", ["a2"]]);
  return [g, pn, lww, set];
}

const values = (states: LiveCrdt[]) => Promise.all(states.map((s) => s.value()));

describe("reload: CRDT kinds", () => {
  it("v1 → v2 hands every live state over with an equal value", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const states = await populate(host);
    const before = await values(states);
    expect(before).to.deep.equal([7, 7, "second", ["green", "red"]]);

    const report = await host.reload(handle, await plugin("crdt-v2"));

    expect(report.moved.crdtStates).to.equal(4);
    expect(states.every((s) => s.servedBy.version === "2.0.0")).to.equal(true);
    expect(await values(states)).to.deep.equal(before);
    host.dispose();
  });

  it("after the reload states keep accepting ops and merging, also with v1-era bytes", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const [, likes] = await populate(host);
    const replica = await host.createCrdt("likes-replica", "pn-counter");
    await replica.apply(["c", 5]);
    const v1Bytes = await (likes as LiveCrdt).persist();

    await host.reload(handle, await plugin("crdt-v2"));

    await (likes as LiveCrdt).apply(["a", 1]);
    await (likes as LiveCrdt).merge(replica);
    expect(await (likes as LiveCrdt).value()).to.equal(13);
    await replica.merge(v1Bytes); // bytes persisted by v1 before the reload still merge into v2 states
    expect(await replica.value()).to.equal(12);
    host.dispose();
  });

  it("v1 → v2-incompatible is refused at check-compat naming the kind; v1 keeps every value", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const states = await populate(host);
    const before = await values(states);

    const err = await refused(host.reload(handle, await plugin("crdt-v2-incompatible")), "check-compat");

    expect(err.message).to.match(/crdt "(g-counter|pn-counter|lww-register|or-set)" is incompatible/);
    expect(states.every((s) => s.servedBy.generation === handle.generation)).to.equal(true);
    expect(await values(states)).to.deep.equal(before);
    await (states[1] as LiveCrdt).apply(["z", 1]);
    expect(await (states[1] as LiveCrdt).value()).to.equal(8);
    host.dispose();
  });

  it("checks compatibility even when no state is live (the old version's empty state must read back)", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const err = await refused(host.reload(handle, await plugin("crdt-v2-incompatible")), "check-compat");
    expect(err.message).to.contain("is incompatible");
    host.dispose();
  });
});
