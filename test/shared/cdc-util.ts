// Helpers for the CDC suites: change batches, sinks whose acknowledgements the test controls, and the
// exactly-once check over what a sink acknowledged.
import { makeVector, Table } from "apache-arrow";
import { expect } from "#test";
import { type CdcEmit, fromIPC } from "../../src/mod.ts";

/** A change batch of `count` rows with ids `first..first+count` (one row per change). */
export function changes(first: number, count: number): Table {
  return new Table({ row: makeVector(BigInt64Array.from({ length: count }, (_, i) => BigInt(first + i))) });
}

/** A promise the test settles by hand. */
export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * An async sink that acknowledges each emit only when the test says so. `received` is every call (retries
 * included); `acked` is what it acknowledged, in order.
 */
export function manualSink() {
  const received: CdcEmit[] = [];
  const acked: CdcEmit[] = [];
  const pending: { emit: CdcEmit; settle: Deferred }[] = [];
  const sink = (e: CdcEmit): Promise<void> => {
    received.push(e);
    const settle = deferred();
    pending.push({ emit: e, settle });
    return settle.promise.then(() => {
      acked.push(e);
    });
  };
  return {
    sink,
    received,
    acked,
    /** Acknowledges the oldest emit still waiting. */
    ackNext: async () => {
      const next = pending.shift();
      if (!next) throw new Error("no emit is waiting for an acknowledgement");
      next.settle.resolve();
      await next.settle.promise;
      await settled();
    },
    /** Refuses the oldest emit still waiting. */
    failNext: async (message = "sink down") => {
      const next = pending.shift();
      if (!next) throw new Error("no emit is waiting for an acknowledgement");
      next.settle.reject(new Error(message));
      await settled();
    },
    get waiting(): number {
      return pending.length;
    },
  };
}

/** Lets every queued promise callback run (delivery continues on promise settlement). */
export async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

/** The `row` column of every emit's payload, in order. */
export function rowIds(emits: readonly CdcEmit[]): bigint[] {
  return emits.flatMap((e) => [...(fromIPC(e.payload).getChild("row")?.toArray() ?? [])] as bigint[]);
}

/** Every LSN in [from, to) exactly once, in order, over `emits`. */
export function expectExactlyOnce(emits: readonly CdcEmit[], from: bigint, to: bigint): void {
  let next = from;
  for (const e of emits) {
    expect(e.lsnStart, `emit [${e.lsnStart}, ${e.lsnEnd})`).to.equal(next);
    next = e.lsnEnd;
  }
  expect(next).to.equal(to);
}
