// The workload of fs-crash.test.ts, run as a child process that the test kills with SIGKILL: four concurrent
// writers of atomic pairs, a compare-and-set counter, blobs linked from records and a group-committed journal.
// Every write is acknowledged on stdout only after its promise resolved (writes to a pipe are synchronous in Node
// on Linux, so an acknowledgement is never left in a buffer of a killed process).
import { openFileStore } from "../../src/adapters/node-fs.ts";
import { incrementCounter, Journal } from "../../src/store/mod.ts";
import { blobContent, hotValue, pairValue, snapshotContent } from "./fs-crash-shared.ts";

const [dir, roundText] = process.argv.slice(2);
const round = Number(roundText);
const store = await openFileStore(dir as string, { compactAtBytes: 48 * 1024 });
const journal = await Journal.open(store, ["journal"]);
const enc = new TextEncoder();
const say = (line: string) => process.stdout.write(`${line}\n`);
say("ready");

async function writer(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const kind = (i + w) % 4;
    if (w === 0 && i % 5 === 4) {
      // A reload: new snapshots as blobs, then the version switch and every resource record in one commit.
      const version = `${round}.${i}`;
      const links: string[] = [];
      for (let k = 0; k < 3; k++) links.push((await store.putBlob(snapshotContent(version, k))).id);
      const res = await store.commit({
        mutations: [
          { type: "set", key: ["plugin", "p"], value: enc.encode(version) },
          ...links.map((id, k) => ({
            type: "set" as const,
            key: ["resource", k],
            value: enc.encode(version),
            blobs: [id],
          })),
        ],
      });
      if (res.ok) say(`reload ${version}`);
    } else if (kind <= 1) {
      const value = enc.encode(pairValue(round, w, i));
      const res = await store.commit({
        mutations: [
          { type: "set", key: ["pair", round, w, i], value },
          { type: "set", key: ["twin", round, w, i], value },
          // Churn: one big record per writer, overwritten each time, so the log outgrows the live records and
          // compacts every few dozen commits.
          { type: "set", key: ["hot", w], value: enc.encode(hotValue(round, w, i)) },
        ],
      });
      if (res.ok) say(`pair ${round} ${w} ${i}`);
    } else if (kind === 2) {
      say(`counter ${await incrementCounter(store, ["counter"])}`);
    } else if (i % 8 === 3) {
      const { id } = await store.putBlob(blobContent(round, w, i));
      await store.commit({
        mutations: [{ type: "set", key: ["blob", round, w, i], value: enc.encode(id), blobs: [id] }],
      });
      say(`blob ${round} ${w} ${i} ${id}`);
    } else {
      const { seq } = await journal.append(enc.encode(`${round}/${w}/${i}`));
      say(`journal ${seq} ${round}/${w}/${i}`);
    }
  }
}

await Promise.all([0, 1, 2, 3].map(writer));
