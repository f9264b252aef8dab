// The channel itself: calls to one instance are served one at a time in FIFO order, whatever way each crosses
// (inline through the shared buffer, by message when too big, shared or transferred bytes, responses posted
// when too big), and a call's host-log lines reach main before the call settles. A seeded property test runs
// random pipelines against index-echo (test/fixtures/wat/index-echo.wat: probe echoes the query, probe-filtered
// the mask, persist the kept bytes, k = 0 is fn-error 0x102) and compares every result with in-thread.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import type { PluginError } from "../../src/errors.ts";
import type { RemoteIndexHandle, WorkerInstance } from "../../src/worker/mod.ts";
import { loadFixture } from "../support/fixtures.ts";
import { channels, spawnWorker } from "../support/worker.ts";

const CHANNEL_BYTES = 4096;
type Index = NonNullable<WorkerInstance["index"]>;
type LocalHandle = ReturnType<NonNullable<ComponentInstance["index"]>["build"]>;

/** Bytes of `size`, filled from `seed`; over shared memory when `shared`. */
function bytes(size: number, seed: number, shared = false): Uint8Array {
  const out = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  for (let i = 0; i < size; i++) out[i] = (seed + i * 31) & 0xff;
  return out;
}

const size = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: CHANNEL_BYTES - 64, max: 3 * CHANNEL_BYTES }));
const op = fc.oneof(
  fc.record({
    kind: fc.constant("probe" as const),
    handle: fc.nat(3),
    size,
    k: fc.constantFrom(0, 1, 9),
    shared: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("filtered" as const), handle: fc.nat(3), size, mask: size }),
  fc.record({ kind: fc.constant("persist" as const), handle: fc.nat(3), shared: fc.boolean() }),
  fc.record({ kind: fc.constant("kinds" as const) }),
  fc.record({ kind: fc.constant("supports" as const), handle: fc.nat(3) }),
);

/** A result or an error, comparable across the two instances. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    const value = await run();
    return value instanceof Uint8Array ? { bytes: [...value] } : { value };
  } catch (err) {
    const e = err as PluginError;
    return { error: [e.name, e.code, e.message, e.retryable] };
  }
}

const live: WorkerInstance[] = [];
afterAll(async () => {
  for (const w of live.splice(0)) await w.dispose();
});

for (const channel of channels()) {
  describe(`worker channel (${channel})`, () => {
    let local: ComponentInstance;
    let remote: WorkerInstance;
    const lines: string[] = [];
    beforeAll(async () => {
      const module = await ComponentModule.compile(await loadFixture("index-echo"));
      local = await ComponentInstance.instantiate(module, { pluginId: "test.echo", grants: new Set() });
      remote = await spawnWorker(module, {
        pluginId: "test.echo",
        grants: new Set(),
        channel,
        channelBytes: CHANNEL_BYTES,
        log: (level, message) => lines.push(`${level}:${message}`),
      });
      live.push(remote);
    });

    it("random pipelines of small, big, shared and posted calls give in-thread's results in order", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(size, { minLength: 4, maxLength: 4 }),
          fc.array(op, { minLength: 1, maxLength: 30 }),
          async (sources, ops) => {
            const lh: LocalHandle[] = [];
            const rh: RemoteIndexHandle[] = [];
            for (const [i, n] of sources.entries()) {
              lh.push((local.index as NonNullable<ComponentInstance["index"]>).build("echo", bytes(n, i)));
              rh.push(await (remote.index as Index).build("echo", bytes(n, i)));
            }
            const expected: unknown[] = [];
            const pending: Promise<unknown>[] = [];
            for (const [i, o] of ops.entries()) {
              // In-thread, one by one; remote, all issued before any is awaited (they queue).
              switch (o.kind) {
                case "probe":
                  expected.push(await outcome(() => lh[o.handle]?.probe(bytes(o.size, i), o.k)));
                  pending.push(outcome(() => rh[o.handle]?.probe(bytes(o.size, i, o.shared), o.k)));
                  break;
                case "filtered":
                  expected.push(
                    await outcome(() => lh[o.handle]?.probeFiltered(bytes(o.size, i), 1, bytes(o.mask, -i))),
                  );
                  pending.push(outcome(() => rh[o.handle]?.probeFiltered(bytes(o.size, i), 1, bytes(o.mask, -i))));
                  break;
                case "persist":
                  expected.push(await outcome(() => lh[o.handle]?.persist()));
                  pending.push(outcome(() => (o.shared ? rh[o.handle]?.persistShared() : rh[o.handle]?.persist())));
                  break;
                case "kinds":
                  expected.push(await outcome(() => local.index?.kinds()));
                  pending.push(outcome(() => remote.index?.kinds()));
                  break;
                case "supports":
                  expected.push(await outcome(() => lh[o.handle]?.supportsFilter()));
                  pending.push(outcome(() => rh[o.handle]?.supportsFilter()));
                  break;
              }
            }
            expect(await Promise.all(pending)).to.deep.equal(expected);
            for (const h of lh) h.drop();
            await Promise.all(rh.map((h) => h.drop()));
            expect(await remote.liveHandles()).to.deep.equal(local.liveHandles());
          },
        ),
        { seed: 0x5eed, numRuns: 25 },
      );
      expect(remote.poisoned).to.equal(false);
    });

    it("hands a call's host-log lines on before the call settles, in order", async () => {
      lines.length = 0;
      const handles = await Promise.all([1, 2, 3].map((n) => (remote.index as Index).build("echo", bytes(n, n))));
      // Each build logs one line (info); each drop one (debug). All before the promise that caused them settles.
      expect(lines).to.deep.equal(["info:built an echo index", "info:built an echo index", "info:built an echo index"]);
      const seen: number[] = [];
      await Promise.all(handles.map((h) => h.drop().then(() => seen.push(lines.length))));
      expect(seen).to.deep.equal([4, 5, 6]);
      expect(lines.slice(3)).to.deep.equal(["debug:dropped", "debug:dropped", "debug:dropped"]);
    });

    it("applies the host-log caps in the worker as in-thread, and reports the same log stats", async () => {
      const module = await ComponentModule.compile(await loadFixture("index-echo"));
      const logLimits = { messagesPerSecond: 2, maxMessageBytes: 8 };
      const localLines: string[] = [];
      const remoteLines: string[] = [];
      const capped = await ComponentInstance.instantiate(module, {
        pluginId: "test.capped",
        grants: new Set(),
        logLimits,
        log: (level, message) => localLines.push(`${level}:${message}`),
      });
      const remoteCapped = await spawnWorker(module, {
        pluginId: "test.capped",
        grants: new Set(),
        channel,
        logLimits,
        log: (level, message) => remoteLines.push(`${level}:${message}`),
      });
      live.push(remoteCapped);
      for (let i = 0; i < 5; i++) {
        capped.index?.build("echo", bytes(1, i));
        await remoteCapped.index?.build("echo", bytes(1, i));
      }
      // The same caps, the same truncation; how many pass the rate cap depends on timing, so it is counted.
      const stats = await remoteCapped.logStats();
      expect(remoteLines[0]).to.equal(localLines[0]);
      expect(remoteLines[0]).to.contain("[truncated: 11 more bytes]");
      expect(stats.delivered).to.equal(remoteLines.length);
      expect(stats.delivered + stats.dropped).to.equal(5);
      expect(stats.dropped).to.be.greaterThan(0);
      expect(stats.truncated).to.equal(stats.delivered);
      expect(stats.droppedBytes).to.equal(stats.dropped * 19); // each line: "built an echo index"
    });
  });
}
