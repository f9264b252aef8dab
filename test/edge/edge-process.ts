// Starts demo/deno-edge as a child process on a free loopback port and stops it (gracefully or kill -9).
// node:child_process so the same helper runs under `deno test` (deno task test:edge) and under Node.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The deno binary: this one under Deno, the npm-installed one under Node. */
function denoBinary(): string {
  return "Deno" in globalThis ? process.execPath : join(repoRoot, "node_modules/.bin/deno");
}

export interface EdgeServer {
  url: string;
  restored: string[];
  /** SIGKILL: no shutdown hook runs, KV is left as the last acknowledged write left it. */
  kill(): Promise<void>;
}

export async function tempKvDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "edge-kv-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startEdge(kvDir: string, preload: string): Promise<EdgeServer> {
  const args = [
    "run",
    "--unstable-kv",
    `--allow-read=${repoRoot},${kvDir}`,
    `--allow-write=${kvDir}`,
    "--allow-net=127.0.0.1",
    "--allow-env",
    "demo/deno-edge/main.ts",
    "--port",
    "0",
    "--kv",
    join(kvDir, "edge.kv"),
    "--preload",
    preload,
  ];
  const child: ChildProcess = spawn(denoBinary(), args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`edge server did not start in 30 s\n${stderr}`)), 30_000);
    child.stdout?.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`edge server exited with ${code} before listening\n${stderr}`));
    });
  });
  const ready = JSON.parse(first) as { listening: string; restored: string[] };
  return {
    url: ready.listening,
    restored: ready.restored,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}
