/**
 * Node entry: supplies file loading, the memory probe and the Node-only
 * peers, runs the shared suite, writes bench/results/node.json (or, with
 * --smoke, nothing) and exits non-zero if any benchmark threw.
 *
 * Run through bench/run.mjs (Node 20 cannot run TypeScript directly).
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { runSuite } from "./core/suite.ts";
import type { BenchEnv, ComponentName } from "./core/types.ts";
import { extismPeer, jcoPeer } from "./node-peers.ts";

const root = process.env.BENCH_REPO_ROOT ?? process.cwd();
const dist = join(root, "plugins-wasm", "dist");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const only = args.filter((a) => !a.startsWith("--"));

const gc = (globalThis as { gc?: () => void }).gc;
const env: BenchEnv = {
  runtime: "node",
  runtimeVersion: `Node ${process.version} (V8 ${process.versions.v8})`,
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    os: `${type()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  smoke,
  async component(name: ComponentName) {
    try {
      return new Uint8Array(await readFile(join(dist, `${name}.wasm`)));
    } catch {
      return undefined;
    }
  },
  // JS heap only: Node counts wasm linear memory under `external`/`arrayBuffers`, and that growth is measured apart.
  heapBytes: () => process.memoryUsage().heapUsed,
  gc: () => gc?.(),
  peers: [
    jcoPeer(join(dist, "vector-flat-v1.wasm")),
    extismPeer(join(root, "test", "fixtures", "extism", "noop.wasm")),
  ],
  log: (line) => console.log(line),
};

const { results, failures } = await runSuite(env, only);
if (!smoke && !only.length) {
  const out = process.env.BENCH_RESULTS_DIR ?? join(root, "bench", "results");
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "node.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("wrote bench/results/node.json");
}
if (failures.length) {
  console.error(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.id).join(", ")}`);
  process.exit(1);
}
console.log(`bench ${smoke ? "smoke " : ""}ok: ${results.figures.length} figures, ${results.skipped.length} skipped`);
