// Node-only (child processes, SIGKILL, the file system): the file store under kill -9. A child runs a write-heavy
// workload (fs-crash-child.ts); the test kills it at a random moment, reopens the store and checks that every
// acknowledged write is there, no atomic batch is half there, the counter never went back, every linked blob reads
// back intact, and the journal has no gap. The store's directory carries over from round to round, with compaction
// set low so kills also land inside compactions.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/adapters/node-fs.ts";
import type { LogOpenReport } from "../../src/store/log/backend.ts";
import { Journal, readCounter } from "../../src/store/mod.ts";
import { blobContent, hotOrigin, pairValue, snapshotContent } from "./fs-crash-shared.ts";

const ROUNDS = 30;
const SEED = 424_242;

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Acks {
  reloads: string[];
  pairs: [number, number][];
  counters: bigint[];
  blobs: { w: number; i: number; id: string }[];
  journal: Map<bigint, string>;
}

/** Runs one round of the child and kills it `delayMs` after it is ready; resolves what it acknowledged. */
function runAndKill(bundle: string, dir: string, round: number, delayMs: number): Promise<Acks> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, dir, String(round)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let killed = false;
    child.stdout.on("data", (d) => {
      out += d;
      if (!killed && out.startsWith("ready\n")) {
        killed = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal !== "SIGKILL") return reject(new Error(`child ended by itself (${code}): ${err}`));
      const acks: Acks = { reloads: [], pairs: [], counters: [], blobs: [], journal: new Map() };
      const lines = out.split("\n");
      lines.pop(); // whatever follows the last newline was never a whole acknowledgement
      for (const line of lines) {
        const f = line.split(" ");
        if (f[0] === "reload") acks.reloads.push(f[1] as string);
        else if (f[0] === "pair") acks.pairs.push([Number(f[2]), Number(f[3])]);
        else if (f[0] === "counter") acks.counters.push(BigInt(f[1] as string));
        else if (f[0] === "blob") acks.blobs.push({ w: Number(f[2]), i: Number(f[3]), id: f[4] as string });
        else if (f[0] === "journal") acks.journal.set(BigInt(f[1] as string), f[2] as string);
      }
      resolve(acks);
    });
  });
}

describe("file store under kill -9", () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-store-crash-"));
    bundle = join(dir, "..", `${dir.split("/").pop()}-child.mjs`);
    await build({
      input: fileURLToPath(new URL("./fs-crash-child.ts", import.meta.url)),
      platform: "node",
      logLevel: "warn",
      output: { file: bundle, format: "esm" },
    });
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(bundle, { force: true });
  });

  it(`keeps every acknowledged write and no torn batch across ${ROUNDS} kills`, async () => {
    const random = rng(SEED);
    const enc = new TextDecoder();
    let maxCounter = 0n;
    let torn = 0;
    let reloads = 0;
    let lastReload: [number, number] = [-1, -1];
    let leftovers = 0;
    let generation = 0;
    let acked = 0;
    const journalSeen = new Map<bigint, string>();
    for (let round = 0; round < ROUNDS; round++) {
      const acks = await runAndKill(bundle, dir, round, 20 + Math.floor(random() * 400));
      acked += acks.reloads.length + acks.pairs.length + acks.counters.length + acks.blobs.length + acks.journal.size;
      reloads += acks.reloads.length;
      for (const [seq, v] of acks.journal) journalSeen.set(seq, v);

      const names = [...(await readdir(dir)), ...(await readdir(join(dir, "blobs")).catch(() => []))];
      if (names.some((n) => n.includes(".tmp-"))) leftovers++;
      const reports: LogOpenReport[] = [];
      const store = await openFileStore(dir, { onOpen: (r) => reports.push(r) });
      if ((reports[0]?.tornBytes ?? 0) > 0) torn++;
      for (const n of await readdir(dir)) {
        if (/^log-[0-9a-f]{16}$/.test(n)) generation = Math.max(generation, Number.parseInt(n.slice(4), 16));
      }
      try {
        // The plugin's version and every resource's record and snapshot agree: all old or all new, never a mix,
        // and never older than the last acknowledged reload.
        const plugin = await store.get(["plugin", "p"]);
        if (plugin) {
          const version = enc.decode(plugin.value);
          for (let k = 0; k < 3; k++) {
            const res = await store.get(["resource", k]);
            expect(res && enc.decode(res.value), `resource ${k} at ${version}`).to.equal(version);
            const snap = await store.getBlob(res?.blobs[0] as string);
            expect(enc.decode(snap)).to.equal(enc.decode(snapshotContent(version, k)));
          }
          const [r, i] = version.split(".").map(Number) as [number, number];
          expect(r > lastReload[0] || (r === lastReload[0] && i >= lastReload[1]), `version ${version}`).to.equal(true);
          lastReload = [r, i];
        }
        const lastAck = acks.reloads.at(-1);
        if (lastAck) {
          const [r, i] = lastAck.split(".").map(Number) as [number, number];
          expect(lastReload[0] === r && lastReload[1] >= i, `acknowledged reload ${lastAck}`).to.equal(true);
        }
        // Every acknowledged pair, whole.
        for (const [w, i] of acks.pairs) {
          const [a, b] = await store.getMany([
            ["pair", round, w, i],
            ["twin", round, w, i],
          ]);
          expect(a && enc.decode(a.value), `pair ${round}/${w}/${i}`).to.equal(pairValue(round, w, i));
          expect(b && enc.decode(b.value)).to.equal(pairValue(round, w, i));
        }
        // Each writer's churn record is from its last acknowledged pair or a later one.
        for (let w = 0; w < 4; w++) {
          const last = Math.max(-1, ...acks.pairs.filter(([pw]) => pw === w).map(([, i]) => i));
          if (last < 0) continue;
          const hot = await store.get(["hot", w]);
          const [r, i] = hotOrigin(enc.decode(hot?.value));
          expect(r === round && i >= last, `hot ${w} from ${r}/${i}, acknowledged ${round}/${last}`).to.equal(true);
        }
        // No half batch anywhere: pairs and twins match one to one.
        const pairs: string[] = [];
        const twins: string[] = [];
        for await (const e of store.list({ prefix: ["pair"] }))
          pairs.push(`${e.key.slice(1).join("/")}=${enc.decode(e.value)}`);
        for await (const e of store.list({ prefix: ["twin"] }))
          twins.push(`${e.key.slice(1).join("/")}=${enc.decode(e.value)}`);
        expect(twins).to.deep.equal(pairs);
        // The counter never goes back and never gave a value twice.
        const counter = await readCounter(store, ["counter"]);
        for (const c of acks.counters) expect(counter >= c, `counter ${counter} >= acknowledged ${c}`).to.equal(true);
        expect(counter >= maxCounter).to.equal(true);
        expect(new Set(acks.counters).size).to.equal(acks.counters.length);
        for (const c of acks.counters) expect(c > maxCounter, `counter ${c} handed out again`).to.equal(true);
        for (const c of acks.counters) if (c > maxCounter) maxCounter = c;
        // Linked blobs read back intact.
        for (const b of acks.blobs) {
          const rec = await store.get(["blob", round, b.w, b.i]);
          expect(rec?.blobs).to.deep.equal([b.id]);
          const bytes = await store.getBlob(b.id);
          expect(Buffer.compare(Buffer.from(bytes), Buffer.from(blobContent(round, b.w, b.i)))).to.equal(0);
        }
        for await (const e of store.list({ prefix: ["blob"] })) await store.getBlob(e.blobs[0] as string);
        // The journal: no gap, every acknowledged entry in place.
        const journal = await Journal.open(store, ["journal"]);
        let expected = 0n;
        for await (const e of journal.entries()) {
          expect(e.seq).to.equal(expected);
          const want = journalSeen.get(e.seq);
          if (want !== undefined) expect(enc.decode(e.value)).to.equal(want);
          expected++;
        }
        for (const seq of acks.journal.keys()) expect(seq < expected, `journal entry ${seq}`).to.equal(true);
      } finally {
        await store.close();
      }
    }
    console.log(
      `fs crash test: ${ROUNDS} kills, ${acked} acknowledged writes checked (${reloads} reloads), ` +
        `${torn} reopens cut a torn tail, ` +
        `${leftovers} found a half-written temporary file (killed inside a compaction or blob write), ` +
        `${generation - 1} compactions`,
    );
    expect(acked).to.be.greaterThan(ROUNDS);
    expect(reloads).to.be.greaterThan(0);
    expect(generation, "the workload compacts, so kills can land inside compactions").to.be.greaterThan(ROUNDS);
  }, 300_000);
});
