// Bad input to PluginHost is a typed PluginError(TypeCoercion) — as an async rejection, never a synchronous
// throw from a method that returns a promise — checked before any plugin is called, and nothing changes.
import { describe, expect, it } from "#test";
import { ErrorCode, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects, vectorTable, seededFloats } from "./host-util.ts";

/** Calls `fn`, which must return a promise (not throw), and expects it to reject with TypeCoercion. */
async function rejectsTyped(fn: () => Promise<unknown>, ...message: string[]): Promise<void> {
  let promise: Promise<unknown>;
  try {
    promise = fn();
  } catch (err) {
    throw new Error(`threw synchronously instead of rejecting: ${String(err)}`);
  }
  await expectRejects(promise, { code: ErrorCode.TypeCoercion, message });
}

describe("bad input to PluginHost", () => {
  it("CRDT ops MessagePack cannot encode reject typed, and the state is unchanged", async () => {
    const host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 3]);
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = [deep];
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const op of [["a", 1n << 70n], deep, () => 1, Symbol("s"), ["a", Symbol("s")], cyclic]) {
      await rejectsTyped(() => likes.apply(op), 'crdt "likes".apply', "MessagePack");
    }
    await rejectsTyped(() => likes.merge(42 as unknown as Uint8Array), "merge");
    expect(await likes.value()).to.equal(3);
    // A bigint in range is a valid op now, not an encoder crash.
    await likes.apply(["a", 2n]);
    expect(await likes.value()).to.equal(5);
    host.dispose();
  });

  it("createIndex options JSON cannot write reject typed before the plugin is called", async () => {
    const host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("vector-flat-v1"));
    const table = vectorTable([1n, 2n], seededFloats(8, 1), 4);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejectsTyped(() => host.createIndex("a", "vector.flat", table, cyclic), 'createIndex "a"', "JSON");
    await rejectsTyped(() => host.createIndex("b", "vector.flat", table, { big: 1n }), "JSON");
    await rejectsTyped(() => host.createIndex("c", "vector.flat", table, [1] as unknown as object), "plain object");
    await rejectsTyped(() => host.createIndex("", "vector.flat", table), "non-empty string");
    await rejectsTyped(() => host.openIndex("d", "vector.flat", "bytes" as unknown as Uint8Array), "Uint8Array");
    expect(host.plugins()[0]?.resources).to.deep.equal([]);
    host.dispose();
  });

  it("CDC options are checked: checkpointEvery must be a positive integer, fromLsn a u64", async () => {
    const host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("changelog-v1"));
    for (const checkpointEvery of [Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY]) {
      await rejectsTyped(() => host.attachCdc("s", "changelog", { checkpointEvery }), "checkpointEvery");
    }
    await rejectsTyped(() => host.attachCdc("s", "changelog", { fromLsn: -1n }), "fromLsn");
    await rejectsTyped(() => host.attachCdc("s", "changelog", { fromLsn: 1n << 64n }), "fromLsn");
    expect(host.cdc("s")).to.equal(undefined);
    const s = await host.attachCdc("s", "changelog", { checkpointEvery: 1 });
    expect(s.nextLsn).to.equal(0n);
    host.dispose();
  });
});

describe("logical-type literals over the host's bound", () => {
  it("are refused before the plugin sees them, and never become reload samples", async () => {
    const host = new PluginHost({ onLog: () => {}, maxLiteralBytes: 64 });
    const handle = await host.load(await loadPlugin("types-v1"));
    const geo = host.logicalType("geo.point");
    const long = `POINT(1 ${"1".repeat(100)})`;
    await expectRejects(geo.fromLiteral(["POINT(1 2)", long]), {
      code: ErrorCode.ResourceLimit,
      message: ["row 1", "64"],
    });
    await expectRejects(geo.fromLiteral("POINT(1 2)" as unknown as string[]), { code: ErrorCode.TypeCoercion });
    await expectRejects(geo.fromLiteral([7 as unknown as string]), { code: ErrorCode.TypeCoercion, message: "row 0" });
    expect((await geo.fromLiteral(["POINT(1 2)"])).numRows).to.equal(1);
    // The refused literal was not kept: the reload re-checks only what the plugin really parsed.
    const report = await host.reload(handle, await loadPlugin("types-v2"));
    expect(report.ok).to.equal(true);
    expect(host.plugins()[0]?.log.dropped).to.equal(0);
    host.dispose();
  });
});
