// cdc-sink inside the worker (src/worker/sink.ts): each stream call carries the host's expectation
// { mode, nextLsn, stream }; the worker accepts or refuses each emit exactly as LiveCdc#accept does (same
// messages), and hands the accepted emits to main in order with the call's result. Against the hostile
// fixture (deliver emits exactly [lsnStart, lsnEnd) with the mutations as payload; 0xfe: emit, then loop)
// and cdc-emit (commit-micros -1: emit, then trap).
import { afterAll, describe, expect, it } from "#test";
import { ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, PluginCallError } from "../../src/errors.ts";
import type { AcceptedEmit, SinkExpectation, WorkerInstance } from "../../src/worker/mod.ts";
import { expectRejects } from "../support/errors.ts";
import { loadFixture } from "../support/fixtures.ts";
import { boundRunaways, channels, spawnWorker, timed } from "../support/worker.ts";

type Cdc = NonNullable<WorkerInstance["cdc"]>;
const live: WorkerInstance[] = [];
afterAll(async () => {
  for (const w of live.splice(0)) await w.dispose();
});

async function cdcWorker(fixture: string, channel: "atomics" | "message", timeoutMs = 20_000) {
  const module = await ComponentModule.compile(await loadFixture(fixture));
  const w = await spawnWorker(
    module,
    { pluginId: `test.${fixture}`, grants: new Set(["cdc-sink"]), channel, timeoutMs },
    { timeoutMs: 30_000 },
  );
  live.push(w);
  return { w, cdc: w.cdc as Cdc };
}

const batch = (lsnStart: bigint, lsnEnd: bigint, first = 1) => ({
  lsnStart,
  lsnEnd,
  mutations: new Uint8Array([first, Number(lsnStart), Number(lsnEnd)]),
  commitMicros: 0n,
});

for (const channel of channels()) {
  describe(`worker cdc sink (${channel} channel)`, () => {
    it("accepts emits starting at the expected LSN, in order, and hands them to main with the payload", async () => {
      const { cdc } = await cdcWorker("hostile", channel);
      const got: AcceptedEmit[] = [];
      const onEmit = (e: AcceptedEmit) => got.push(e);
      let sink: SinkExpectation = { mode: "live", nextLsn: 0n, stream: "changes" };
      const stream = await cdc.start("changelog", undefined, { sink, onEmit });
      for (const [s, e] of [
        [0n, 3n],
        [3n, 4n],
        [4n, 9n],
      ] as const) {
        await stream.deliver(batch(s, e), { sink, onEmit });
        sink = { ...sink, nextLsn: got.at(-1)?.lsnEnd ?? sink.nextLsn };
      }
      expect(got.map((e) => [e.output, e.lsnStart, e.lsnEnd, [...e.payload]])).to.deep.equal([
        ["changelog", 0n, 3n, [1, 0, 3]],
        ["changelog", 3n, 4n, [1, 3, 4]],
        ["changelog", 4n, 9n, [1, 4, 9]],
      ]);
      expect(await stream.checkpoint({ sink })).to.equal(9n);
      // staged (a stream started on a new version during a reload) chains the same way.
      await stream.deliver(batch(9n, 10n), { sink: { mode: "staged", nextLsn: 9n }, onEmit });
      expect(got.at(-1)?.lsnEnd).to.equal(10n);
    });

    it("refuses a duplicate, a gap and an empty range with LiveCdc's messages, as the guest's fn-error", async () => {
      const { cdc, w } = await cdcWorker("hostile", channel);
      const got: AcceptedEmit[] = [];
      const sink: SinkExpectation = { mode: "live", nextLsn: 5n, stream: "changes" };
      const stream = await cdc.start("changelog", 5n, { sink });
      const refusals: [bigint, bigint, string][] = [
        [2n, 5n, 'cdc-sink refused [2, 5) on "changes": duplicate, expected a batch starting at 5'],
        [6n, 8n, 'cdc-sink refused [6, 8) on "changes": gap, expected a batch starting at 5'],
        [5n, 5n, 'cdc-sink refused [5, 5) on "changes": empty range, expected a batch starting at 5'],
      ];
      for (const [s, e, message] of refusals) {
        const err = await expectRejects(stream.deliver(batch(s, e), { sink, onEmit: (x) => got.push(x) }), {
          code: ErrorCode.Forbidden,
          name: "PluginCallError",
          pluginId: w.pluginId,
        });
        expect(err).to.be.instanceOf(PluginCallError);
        expect(err.message).to.equal(message);
      }
      expect(got).to.deep.equal([]);
      // Without a stream name the output's name stands in.
      const unnamed = await expectRejects(stream.deliver(batch(1n, 2n), { sink: { mode: "live", nextLsn: 5n } }), {
        code: ErrorCode.Forbidden,
      });
      expect(unnamed.message).to.equal(
        'cdc-sink refused [1, 2) on "changelog": duplicate, expected a batch starting at 5',
      );
      expect(w.poisoned).to.equal(false);
    });

    it("a sealed stream refuses every emit, naming the handover LSN; no expectation refuses as outside a stream call", async () => {
      const { cdc } = await cdcWorker("hostile", channel);
      const stream = await cdc.start("changelog", 0n, { sink: { mode: "live", nextLsn: 0n } });
      const sealed = await expectRejects(
        stream.deliver(batch(7n, 8n), { sink: { mode: "sealed", nextLsn: 7n, stream: "changes" } }),
        { code: ErrorCode.Forbidden, name: "PluginCallError" },
      );
      expect(sealed.message).to.equal(
        'cdc stream "changes" was handed over at LSN 7; emits from the retiring version are refused',
      );
      const outside = await expectRejects(stream.deliver(batch(0n, 1n)), { code: ErrorCode.Forbidden });
      expect(outside.message).to.equal("cdc-sink.emit called outside of a cdc-stream call");
    });

    it("accepted emits reach main even when the call then traps", async () => {
      const { cdc, w } = await cdcWorker("cdc-emit", channel);
      const got: AcceptedEmit[] = [];
      const sink: SinkExpectation = { mode: "live", nextLsn: 0n };
      const stream = await cdc.start("changelog", undefined, { sink });
      // commit-micros -1: the fixture emits, advances its checkpoint, then traps.
      await expectRejects(
        stream.deliver(
          { lsnStart: 0n, lsnEnd: 2n, mutations: new Uint8Array([4, 2]), commitMicros: -1n },
          { sink, onEmit: (e) => got.push(e) },
        ),
        { code: ErrorCode.Trap, name: "TrapError" },
      );
      expect(got.map((e) => [e.lsnStart, e.lsnEnd, [...e.payload]])).to.deep.equal([[0n, 2n, [4, 2]]]);
      expect(w.poisoned).to.equal(true);
    });

    it("a worker killed mid-deliver loses that call's emits; resuming from main's LSN on a fresh worker is exactly once", async () => {
      const { cdc, w } = await cdcWorker("hostile", channel, 300);
      await boundRunaways(w);
      const got: AcceptedEmit[] = [];
      let next = 0n;
      const onEmit = (e: AcceptedEmit) => {
        got.push(e);
        next = e.lsnEnd;
      };
      const retained = [batch(0n, 2n), batch(2n, 3n, 0xfe), batch(3n, 6n)];
      const stream = await cdc.start("changelog", undefined, { sink: { mode: "live", nextLsn: next }, onEmit });
      await stream.deliver(retained[0] as ReturnType<typeof batch>, { sink: { mode: "live", nextLsn: next }, onEmit });
      // 0xfe: the guest emits [2, 3) — accepted in the worker — then spins: the deadline kills the worker first.
      const killed = await timed(
        stream.deliver(retained[1] as ReturnType<typeof batch>, { sink: { mode: "live", nextLsn: next }, onEmit }),
      );
      expect(killed.ok).to.equal(false);
      expect(w.death?.reason).to.equal("deadline");
      expect(next).to.equal(2n); // main never saw [2, 3)

      // The host restores: a fresh worker, the stream resumed at main's LSN, the retained batches redelivered.
      const fresh = await cdcWorker("hostile", channel);
      const resumed = await fresh.cdc.start("changelog", next, { sink: { mode: "live", nextLsn: next }, onEmit });
      for (const b of retained) {
        if (b.lsnStart < next) continue;
        // The same batch without the fixture's loop trigger (a batch that always loops is the host's to quarantine).
        const redelivered = { ...b, mutations: new Uint8Array([1, ...b.mutations.subarray(1)]) };
        await resumed.deliver(redelivered, { sink: { mode: "live", nextLsn: next }, onEmit });
      }
      expect(got.map((e) => [e.lsnStart, e.lsnEnd])).to.deep.equal([
        [0n, 2n],
        [2n, 3n],
        [3n, 6n],
      ]);
      expect(await resumed.checkpoint()).to.equal(6n);
    });
  });
}
