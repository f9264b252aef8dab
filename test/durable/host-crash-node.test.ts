// Node-only (child processes, SIGKILL, the file system): a durable PluginHost on the file store, killed with
// kill -9 at random points of a write-heavy workload — CRDT applies with journal folds, CDC publishes to a
// downstream sink with its own store, index builds and drops, reloads v1 ⇄ v2 of three plugins — 50 times, then
// restored once more and caught up. Every restart must bring back every acknowledged write, the same versions at
// never-lower generations, indexes answering as acknowledged, and downstream must hold each row exactly once
// (test/shared/durable-ledger.ts has the rules). The same child runs in Deno on Deno KV (host-crash-deno.test.ts).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crashRounds } from "./crash-driver.ts";

const ROUNDS = 50;
const dist = fileURLToPath(new URL("../../plugins-wasm/dist/", import.meta.url));

describe("durable host on the file store under kill -9", () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-host-crash-"));
    bundle = join(dir, "child.mjs");
    await build({
      input: fileURLToPath(new URL("./crash-child-node.ts", import.meta.url)),
      platform: "node",
      logLevel: "warn",
      output: { file: bundle, format: "esm" },
    });
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`loses no acknowledged write and delivers each CDC row once downstream across ${ROUNDS} kills`, async () => {
    const outcome = await crashRounds({
      rounds: ROUNDS,
      seed: 1313,
      delayMs: [30, 700],
      earlyShare: 0.15,
      spawn: (round, since, final) =>
        spawn(
          process.execPath,
          [bundle, join(dir, "state"), String(round), String(since), dist, ...(final ? ["final"] : [])],
          { stdio: ["ignore", "pipe", "pipe"] },
        ),
    });
    const s = outcome.stats;
    console.log(
      `node host crash test: ${outcome.kills} kills (${outcome.killedEarly} during restore/setup), ` +
        `${s.acks} acknowledgements checked: ${s.crdtSteps} CRDT steps, ${s.publishes} publishes, ` +
        `${s.indexes} index builds, ${s.reloads} reloads (${s.reloadsFoundCommitted} in flight at a kill and found ` +
        `committed), ${s.downstreamRows} rows downstream, ${s.redelivered} redeliveries recognised; ` +
        `restore to a running workload: median ${median(outcome.restoreMs)} ms`,
    );
    expect(outcome.violations).to.deep.equal([]);
    expect(outcome.kills).to.equal(ROUNDS);
    expect(s.reloads).to.be.greaterThan(ROUNDS / 2);
    expect(s.publishes).to.be.greaterThan(ROUNDS);
    expect(s.indexes).to.be.greaterThan(ROUNDS / 2);
  }, 240_000);
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? Number.NaN;
}
