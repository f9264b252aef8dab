// Node-only (spawns Deno): watch-mode notification over a real Deno KV. Two nodes in one Deno process share one
// KV (a local KV's watch sees only its own process's writes, which is all this needs) and notice changes only
// through `watch`: their fallback poll is a minute, so a rollout that completes within seconds was driven by watch
// events. Run in Deno because that is where `watch` matters (Deno Deploy, denokv), and because `@deno/kv` 0.14
// in Node hangs the process once one of several watches is cancelled and the database is written again.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(repoRoot, "node_modules/.bin/deno");
const peer = fileURLToPath(new URL("./watch-peer.ts", import.meta.url));

function runPeer(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      deno,
      ["run", "--unstable-kv", `--allow-read=${repoRoot},${dir}`, `--allow-write=${dir}`, peer, join(dir, "fleet.kv")],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`watch peer exited ${code}: ${err}`))));
  });
}

describe("watch-mode notification (Deno KV)", () => {
  it("a rollout completes through watch events alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "uni-fleet-watch-"));
    try {
      const result = JSON.parse((await runPeer(dir)).trim()) as {
        phase: string;
        ms: number;
        serving: string[];
        committed: string[];
      };
      expect(result.phase).to.equal("done");
      expect(result.committed).to.deep.equal(["a", "b"]);
      expect(result.serving).to.deep.equal(["2.0.0", "2.0.0"]);
      // Far below the one-minute fallback poll: each step was noticed when its record was written.
      expect(result.ms).to.be.lessThan(30_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
