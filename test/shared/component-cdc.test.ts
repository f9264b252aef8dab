// The cdc client and the cdc-sink import, against the cdc-emit fixture
// (see test/fixtures/wat/cdc-emit.wat): deliver hands mutations to emit, then
// advances the checkpoint to lsn-end.
import { tableFromArrays } from "apache-arrow";
import { describe, expect, it } from "#test";
import { toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, LoadError, PluginCallError, PluginError, TrapError } from "../../src/errors.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { thrown } from "../support/errors.ts";

type Emitted = { output: string; lsnStart: bigint; lsnEnd: bigint; payload: number[] };

async function cdc(sink?: (e: Emitted) => void) {
  const module = await ComponentModule.compile(await loadFixture("cdc-emit"));
  const emitted: Emitted[] = [];
  const instance = await ComponentInstance.instantiate(module, {
    pluginId: "test.cdc",
    grants: new Set(["cdc-sink"]),
    cdcSink: (output, lsnStart, lsnEnd, payload) => {
      const e = { output, lsnStart, lsnEnd, payload: [...payload] };
      sink?.(e);
      emitted.push(e);
    },
  });
  return { instance, client: instance.cdc as NonNullable<ComponentInstance["cdc"]>, emitted };
}

describe("cdc surface", () => {
  it("refuses to instantiate a component importing cdc-sink without the grant", async () => {
    const module = await ComponentModule.compile(await loadFixture("cdc-emit-undeclared"));
    try {
      await ComponentInstance.instantiate(module, {
        pluginId: "test.cdc",
        grants: new Set(["cdc"]),
        cdcSink: () => {},
      });
      throw new Error("expected CapabilityDenied");
    } catch (err) {
      expect(err).to.be.instanceOf(LoadError);
      expect((err as PluginError).code).to.equal(ErrorCode.CapabilityDenied);
      expect((err as PluginError).message).to.contain("cdc-sink");
      expect((err as PluginError).pluginId).to.equal("test.cdc");
    }
  });

  it("delivers batches to the sink and checkpoints at the exclusive end", async () => {
    const { client, emitted } = await cdc();
    expect(client.outputs()).to.deep.equal(["changelog"]);
    const stream = client.start("changelog");
    expect(stream.checkpoint()).to.equal(0n);
    stream.deliver({
      lsnStart: 0n,
      lsnEnd: 3n,
      mutations: new Uint8Array([1, 2]),
      commitMicros: 1_700_000_000_000_000n,
    });
    stream.deliver({ lsnStart: 3n, lsnEnd: 5n, mutations: new Uint8Array([3]), commitMicros: 0n });
    expect(stream.checkpoint()).to.equal(5n);
    expect(emitted).to.deep.equal([
      { output: "changelog", lsnStart: 0n, lsnEnd: 3n, payload: [1, 2] },
      { output: "changelog", lsnStart: 3n, lsnEnd: 5n, payload: [3] },
    ]);
    stream.shutdown();
    expect(
      thrown(() => stream.deliver({ lsnStart: 5n, lsnEnd: 6n, mutations: new Uint8Array(), commitMicros: 0n })).code,
    ).to.equal(0x103);
    stream.drop();
  });

  it("resumes at an LSN, including u64 values above 2^63", async () => {
    const { client } = await cdc();
    const high = (1n << 64n) - 10n;
    const stream = client.start("changelog", high);
    expect(stream.checkpoint()).to.equal(high);
    stream.deliver({ lsnStart: high, lsnEnd: high + 4n, mutations: new Uint8Array(), commitMicros: -5n });
    expect(stream.checkpoint()).to.equal(high + 4n);
  });

  it("passes the plugin's fn-errors through (a gap, an unknown output)", async () => {
    const { client, instance } = await cdc();
    expect(thrown(() => client.start("nope")).code).to.equal(0x101);
    const stream = client.start("changelog", 10n);
    const gap = thrown(() =>
      stream.deliver({ lsnStart: 11n, lsnEnd: 12n, mutations: new Uint8Array(), commitMicros: 0n }),
    );
    expect(gap).to.be.instanceOf(PluginCallError);
    expect(gap.code).to.equal(0x104);
    expect(instance.poisoned).to.equal(false);
  });

  it("returns a sink's typed refusal to the guest as a fn-error; the checkpoint stays frozen", async () => {
    const { client, instance } = await cdc(() => {
      throw new PluginError(0x150, "downstream full", { retryable: true });
    });
    const stream = client.start("changelog");
    const err = thrown(() =>
      stream.deliver({ lsnStart: 0n, lsnEnd: 2n, mutations: new Uint8Array([7]), commitMicros: 0n }),
    );
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err.toJSON()).to.deep.equal({
      name: "PluginCallError",
      code: 0x150,
      message: "downstream full",
      retryable: true,
      pluginId: "test.cdc",
    });
    expect(stream.checkpoint()).to.equal(0n);
    expect(instance.poisoned).to.equal(false);
  });

  it("traps when the sink throws something untyped", async () => {
    const { client, instance } = await cdc(() => {
      throw new Error("sink bug");
    });
    const stream = client.start("changelog");
    const err = thrown(() =>
      stream.deliver({ lsnStart: 0n, lsnEnd: 1n, mutations: new Uint8Array(), commitMicros: 0n }),
    );
    expect(err).to.be.instanceOf(TrapError);
    expect(err.message).to.contain("sink bug");
    expect(instance.poisoned).to.equal(true);
  });

  it("refuses re-entry into the instance from inside its own sink", async () => {
    let inner: PluginError | undefined;
    const { client, instance } = await cdc(() => {
      inner = thrown(() => client.outputs());
      throw inner;
    });
    const stream = client.start("changelog");
    const err = thrown(() =>
      stream.deliver({ lsnStart: 0n, lsnEnd: 1n, mutations: new Uint8Array(), commitMicros: 0n }),
    );
    expect(inner?.code).to.equal(ErrorCode.Forbidden);
    expect(inner?.message).to.contain("re-entering");
    // The sink passed the refusal on: the guest returned it as its fn-error, and the instance is fine.
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err.code).to.equal(ErrorCode.Forbidden);
    expect(instance.poisoned).to.equal(false);
    expect(client.outputs()).to.deep.equal(["changelog"]);
  });

  it("rejects malformed batches with a typed error", async () => {
    const { client } = await cdc();
    const stream = client.start("changelog");
    for (const batch of [
      null,
      { lsnStart: -1n, lsnEnd: 1n, mutations: new Uint8Array(), commitMicros: 0n },
      { lsnStart: 0, lsnEnd: 1n, mutations: new Uint8Array(), commitMicros: 0n },
      { lsnStart: 0n, lsnEnd: 1n, mutations: "x", commitMicros: 0n },
    ]) {
      const err = thrown(() => stream.deliver(batch as never));
      expect(err.code).to.equal(ErrorCode.TypeCoercion);
      expect(err.message).not.to.contain("[object Object]");
    }
    expect(thrown(() => client.start("changelog", 5 as unknown as bigint)).code).to.equal(ErrorCode.TypeCoercion);
  });
});

describe("cdc surface (changelog-v1 sample)", () => {
  it("hands each delivered batch to the sink unchanged and checkpoints past it", async () => {
    const module = await ComponentModule.compile(await loadPlugin("changelog-v1"));
    const emitted: Emitted[] = [];
    const instance = await ComponentInstance.instantiate(module, {
      pluginId: "dev.uni.changelog",
      grants: new Set(["cdc-sink"]),
      cdcSink: (output, lsnStart, lsnEnd, payload) => emitted.push({ output, lsnStart, lsnEnd, payload: [...payload] }),
    });
    const client = instance.cdc as NonNullable<ComponentInstance["cdc"]>;
    expect(client.outputs()).to.deep.equal(["changelog"]);
    const mutations = toIPC(tableFromArrays({ key: Int32Array.from([1, 2]) }));
    const stream = client.start("changelog", 100n);
    stream.deliver({ lsnStart: 100n, lsnEnd: 102n, mutations, commitMicros: 1n });
    expect(stream.checkpoint()).to.equal(102n);
    expect(emitted).to.have.length(1);
    expect(emitted[0]?.output).to.equal("changelog");
    expect([emitted[0]?.lsnStart, emitted[0]?.lsnEnd]).to.deep.equal([100n, 102n]);
    expect(emitted[0]?.payload).to.deep.equal([...mutations]);
    stream.shutdown();
    stream.drop();
    expect(instance.liveHandles().cdc).to.equal(0);
  });
});
