/**
 * Node entry: supplies file loading, the memory probe and the Node-only
 * peers, runs the shared suite, writes bench/results/node.json (or, with
 * --smoke, nothing) and exits non-zero if any benchmark threw.
 *
 * Run through bench/run.mjs (Node 20 cannot run TypeScript directly).
 *
 * @module
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { openFileStore } from "../src/adapters/node-fs.ts";
import { withoutIdbfsNoise } from "./core/quiet.ts";
import { runSuite } from "./core/suite.ts";
import type { BenchEnv, ComponentName, FixtureName, HnswlibModule, StallProbe } from "./core/types.ts";
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
  async fixture(name: FixtureName) {
    try {
      return new Uint8Array(await readFile(join(root, "bench", "fixtures", `${name}.wasm`)));
    } catch {
      return undefined;
    }
  },
  // Node's `arrayBuffers` counts JS ArrayBuffers, not wasm linear memory (that growth is measured per instance).
  memory: () => {
    const m = process.memoryUsage();
    return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
  },
  gc: () => gc?.(),
  stallProbe: eventLoopDelay,
  hnswlib: loadHnswlib,
  loadAverage: () => loadavg()[0] as number,
  async durableStore(name, observer) {
    const dir = await mkdtemp(join(tmpdir(), `uni-bench-${name}-`));
    const store = await openFileStore(dir, observer ? { observer } : {});
    return {
      store,
      label: "the file store",
      async close() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  peers: [
    jcoPeer(join(dist, "vector-flat-v1.wasm"), { debugLogger: true }),
    jcoPeer(join(dist, "vector-flat-v1.wasm"), { debugLogger: false }),
    extismPeer(join(root, "test", "fixtures", "extism", "noop.wasm")),
  ],
  log: (line) => console.log(line),
};

/** Node's own stall monitor: the longest delay of a 1 ms libuv timer beyond when it was due. */
function eventLoopDelay(): StallProbe {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  return {
    how: "node:perf_hooks monitorEventLoopDelay (1 ms resolution): max delay",
    start() {
      histogram.reset();
      histogram.enable();
    },
    stop() {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

/**
 * hnswlib-wasm 0.8.2 is built for browsers only: it loads in Node once `window` exists. The shim is
 * removed again after loading. Its IndexedDB file system cannot start here (./core/quiet.ts keeps
 * that noise off the console); the in-memory indexes the bench uses are not affected (every answer is
 * checked against plain JS).
 */
async function loadHnswlib(): Promise<HnswlibModule> {
  const g = globalThis as { window?: unknown };
  const had = "window" in g;
  g.window ??= globalThis;
  try {
    const { loadHnswlib: load } = (await import("hnswlib-wasm/dist/hnswlib.js")) as {
      loadHnswlib: () => Promise<HnswlibModule>;
    };
    return await withoutIdbfsNoise(load, (line) => console.log(line));
  } finally {
    if (!had) delete g.window;
  }
}

const { results, failures } = await runSuite(env, only);
if (!smoke && !only.length) {
  const out = process.env.BENCH_RESULTS_DIR ?? join(root, "bench", "results");
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "node.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("wrote bench/results/node.json");
} else {
  // A partial or smoke run is not a result to commit; keep it where a developer can read the notes.
  const scratch = join(root, "node_modules", ".cache", "uni-bench", "last-run-node.json");
  await mkdir(join(scratch, ".."), { recursive: true });
  await writeFile(scratch, `${JSON.stringify(results, null, 2)}\n`);
}
if (failures.length) {
  console.error(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.id).join(", ")}`);
  process.exit(1);
}
console.log(`bench ${smoke ? "smoke " : ""}ok: ${results.figures.length} figures, ${results.skipped.length} skipped`);
