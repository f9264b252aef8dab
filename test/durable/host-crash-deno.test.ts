// Node-only driver, Deno workload: the durable-host crash child (crash-child.ts) runs in Deno on Deno KV
// (crash-child-deno.ts: `openDenoKvStore` for the host and for downstream), and this test kills it with kill -9 at
// random points of the write-heavy workload, 50 times, then restores once more and catches downstream up. The
// rules are those of the Node run (host-crash-node.test.ts, test/shared/durable-ledger.ts). A Node test drives it
// because `deno task test` runs without --allow-run; the Deno child gets read access to the repository and write
// access to its own directory only.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crashRounds } from "./crash-driver.ts";

const ROUNDS = 50;
const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");

describe("durable host on Deno KV (in Deno) under kill -9", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-host-crash-deno-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`loses no acknowledged write and delivers each CDC row once downstream across ${ROUNDS} kills`, async () => {
    const outcome = await crashRounds({
      rounds: ROUNDS,
      seed: 1414,
      delayMs: [30, 700],
      earlyShare: 0.15,
      spawn: (round, since, final) =>
        spawn(
          deno,
          [
            "run",
            "--unstable-kv",
            `--allow-read=${root},${dir}`,
            `--allow-write=${dir}`,
            "--allow-env=JCO_DEBUG",
            "test/durable/crash-child-deno.ts",
            dir,
            String(round),
            String(since),
            ...(final ? ["final"] : []),
          ],
          { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
        ),
    });
    const s = outcome.stats;
    console.log(
      `deno host crash test: ${outcome.kills} kills (${outcome.killedEarly} during restore/setup), ` +
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
