// CDC outputs: generated runs of change batches with checkpoints, a crash-and-resume (`start(checkpoint)` in a
// fresh instance, the host redelivering what the checkpoint does not cover, as a restart or hot reload does)
// and a shutdown; every LSN must reach the sink exactly once, and every checkpoint must be exactly the bound of
// what the sink accepted.
import { ipc, makeTable } from "../arrow-gen.mjs";
import { CheckFailure, holds } from "./property.mjs";

function quietly(fn) {
  try {
    fn();
  } catch {
    // the call that failed has been reported
  }
}

const rowsTable = (n, at) =>
  makeTable(
    { key: "Int64", op: "Utf8" },
    Array.from({ length: n }, (_, i) => ({ key: at + BigInt(i), op: i % 3 === 0 ? "delete" : "upsert" })),
  );

/**
 * @param {object} ctx
 * @param {{ output: string, lsnStart: bigint, lsnEnd: bigint }[]} ctx.emits what the instances' sinks received
 * @returns {Promise<string>} what was checked
 * @throws {CheckFailure}
 */
export async function checkCdcOutput({ fc, a, b, calls, output, emits, seed, numRuns }) {
  const scenario = fc.record({
    from: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n }), { nil: undefined }),
    batches: fc.array(fc.record({ rows: fc.integer({ min: 0, max: 5 }), checkpoint: fc.boolean() }), {
      minLength: 1,
      maxLength: 12,
    }),
    restartAfter: fc.option(fc.nat(11), { nil: undefined }),
  });

  const property = fc.property(scenario, ({ from, batches, restartAfter }) => {
    emits.length = 0;
    const start = from ?? 0n;
    const streams = [];
    let lastCheckpoint = start;
    /** The bound the sink has reached: what a checkpoint must equal. */
    const emittedEnd = () => (emits.length > 0 ? emits[emits.length - 1].lsnEnd : start);
    const checkpoint = (stream, when) => {
      const c = calls.run("cdc-stream.checkpoint", () => stream.checkpoint());
      const sunk = emittedEnd();
      if (c < sunk) {
        throw new CheckFailure(
          `${when}, checkpoint returned ${c} but the sink already accepted LSNs up to ${sunk}: a restart from ${c} emits ${c}..${sunk} twice`,
          "checkpoint must be the exclusive bound of what cdc-sink.emit accepted (flush before answering)",
        );
      }
      if (c > sunk) {
        throw new CheckFailure(
          `${when}, checkpoint returned ${c} but the sink has only LSNs up to ${sunk}: a restart from ${c} loses ${sunk}..${c} (an LSN gap)`,
          "report as durable only what cdc-sink.emit accepted",
        );
      }
      if (c < lastCheckpoint) throw new CheckFailure(`${when}, checkpoint went back from ${lastCheckpoint} to ${c}`);
      lastCheckpoint = c;
      return c;
    };
    try {
      let stream = calls.run("cdc.start", () => a.cdc.start(output, from));
      streams.push(stream);
      const delivered = [];
      let lsn = start;
      const deliver = (s, batch) => {
        try {
          calls.run("cdc-stream.deliver", () => s.deliver(batch));
        } catch (err) {
          throw new CheckFailure(`deliver of batch [${batch.lsnStart}, ${batch.lsnEnd}) failed: ${err.message}`);
        }
      };
      for (let i = 0; i < batches.length; i++) {
        const { rows, checkpoint: wantCheckpoint } = batches[i];
        const batch = {
          lsnStart: lsn,
          lsnEnd: lsn + BigInt(Math.max(1, rows)),
          mutations: ipc(rowsTable(rows, lsn)),
          commitMicros: 1_700_000_000_000_000n + lsn,
        };
        deliver(stream, batch);
        delivered.push(batch);
        lsn = batch.lsnEnd;
        if (wantCheckpoint) checkpoint(stream, `after batch [${batch.lsnStart}, ${batch.lsnEnd})`);
        if (restartAfter === i) {
          // A crash (or a hot reload): no shutdown; a new instance starts at the checkpoint, and the host
          // redelivers every batch from there.
          const c = checkpoint(stream, `before the restart after batch [${batch.lsnStart}, ${batch.lsnEnd})`);
          if (!delivered.some((d) => d.lsnStart === c) && c !== lsn && c !== start) {
            throw new CheckFailure(`checkpoint ${c} falls inside a batch: the host redelivers whole batches only`);
          }
          stream.drop();
          streams.pop();
          stream = calls.run("cdc.start (fresh instance, from the checkpoint)", () => b.cdc.start(output, c));
          streams.push(stream);
          for (const d of delivered) if (d.lsnStart >= c) deliver(stream, d);
        }
      }
      calls.run("cdc-stream.shutdown", () => stream.shutdown());
      // Exactly once: the sink's ranges tile [start, lsn) in order.
      let expected = start;
      for (const e of emits) {
        if (e.output !== output) throw new CheckFailure(`an emit names output "${e.output}", not "${output}"`);
        if (e.lsnEnd <= e.lsnStart)
          throw new CheckFailure(`an emit covers the empty range [${e.lsnStart}, ${e.lsnEnd})`);
        if (e.lsnStart > expected) {
          throw new CheckFailure(
            `LSN gap: the sink got [${e.lsnStart}, ${e.lsnEnd}) right after ${expected}, so LSNs ${expected}..${e.lsnStart} never reached it`,
            "emit every batch's range, in order, starting where the last emit ended",
          );
        }
        if (e.lsnStart < expected) {
          throw new CheckFailure(
            `LSNs emitted twice: the sink got [${e.lsnStart}, ${e.lsnEnd}) after already having everything up to ${expected}`,
            "resume at start(from) inclusive and never emit below it",
          );
        }
        expected = e.lsnEnd;
      }
      if (expected !== lsn) {
        throw new CheckFailure(
          `LSN gap: LSNs ${expected}..${lsn} were delivered but never reached the sink, not even at shutdown`,
          "shutdown must flush everything it buffered",
        );
      }
    } finally {
      for (const s of streams) quietly(() => s.drop());
    }
  });
  const runs = await holds(fc, property, { seed, numRuns, calls });
  return `every LSN reaches the sink exactly once across checkpoint, a restart at start(checkpoint) and shutdown (${runs} generated runs)`;
}
