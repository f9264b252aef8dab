// Runtime-neutral store measurements (see ../store-measure.mjs): durable journal append latency under concurrency,
// and the put/get time of a 64 MiB blob. Prints results; judges nothing (goals live in npm run bench).
import { Journal } from "../../src/store/journal.ts";
import { LatencyRecorder } from "../../src/store/metrics.ts";
import type { StateStore } from "../../src/store/types.ts";

export interface Subject {
  readonly name: string;
  open(): Promise<StateStore>;
  dispose(): Promise<void>;
}

export interface Options {
  readonly seconds: number;
  readonly blobMiB: number;
  readonly concurrency: readonly number[];
  readonly print: (line: string) => void;
}

const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);

/** `clients` loops of append-then-wait, for `seconds`: per-append durable latency, throughput, appends per commit. */
export async function journalLatency(subject: Subject, options: Options): Promise<void> {
  for (const clients of options.concurrency) {
    const store = await subject.open();
    const journal = await Journal.open(store, ["bench", "journal", clients]);
    const entry = new Uint8Array(100).fill(7);
    const lat = new LatencyRecorder(1 << 20);
    const stop = performance.now() + options.seconds * 1000;
    let appends = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < stop) {
          const t0 = performance.now();
          await journal.append(entry);
          lat.add(performance.now() - t0);
          appends++;
        }
      }),
    );
    const s = lat.summary();
    const commits = journal.stats().commits;
    options.print(
      `${subject.name} journal, ${clients} concurrent: p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, max ${f(s.max)} ms, ` +
        `${Math.round(appends / options.seconds)} appends/s, ${f(appends / commits)} appends per commit`,
    );
    await store.close();
  }
}

/** Direct commits (no journal), `clients` at a time: the adapter's own batching only. */
export async function commitLatency(subject: Subject, options: Options): Promise<void> {
  for (const clients of options.concurrency) {
    const store = await subject.open();
    const lat = new LatencyRecorder(1 << 20);
    const stop = performance.now() + options.seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; performance.now() < stop; i++) {
          const t0 = performance.now();
          await store.commit({
            mutations: [{ type: "set", key: ["bench", "commit", c, i], value: new Uint8Array(100) }],
          });
          lat.add(performance.now() - t0);
          n++;
        }
      }),
    );
    const s = lat.summary();
    options.print(
      `${subject.name} commit, ${clients} concurrent: p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, ` +
        `${Math.round(n / options.seconds)} commits/s`,
    );
    await store.close();
  }
}

/** Puts a blob of `blobMiB` and reads it back three times (verified); the median read and its rate. */
export async function blobThroughput(subject: Subject, options: Options): Promise<void> {
  const size = options.blobMiB << 20;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = (i >>> 12) & 0xff;
  let store = await subject.open();
  let t0 = performance.now();
  const { id } = await store.putBlob(data);
  const put = performance.now() - t0;
  // Reopen, as a restore would.
  await store.close();
  store = await subject.open();
  const reads: number[] = [];
  for (let r = 0; r < 3; r++) {
    t0 = performance.now();
    const back = await store.getBlob(id);
    reads.push(performance.now() - t0);
    if (back.length !== size || back[4096] !== 1) throw new Error("blob read back wrong");
  }
  reads.sort((a, b) => a - b);
  const read = reads[1] as number;
  options.print(
    `${subject.name} blob ${options.blobMiB} MiB: put ${f(put)} ms, get (verified) median ${f(read)} ms ` +
      `[${reads.map(f).join(", ")}] = ${Math.round((size / 2 ** 20 / read) * 1000)} MiB/s`,
  );
  await store.close();
}

/** Everything above for each subject; disposes each. */
export async function measure(subjects: readonly Subject[], options: Options, which: { journal: boolean }) {
  for (const subject of subjects) {
    try {
      // The blob first, on a fresh store, before the latency runs fill it.
      await blobThroughput(subject, options);
      if (which.journal) {
        await journalLatency(subject, options);
        await commitLatency(subject, options);
      }
    } finally {
      await subject.dispose();
    }
  }
}
