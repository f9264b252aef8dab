/**
 * Deno entry: `deno task bench` (full, writes bench/results/deno.json) or
 * `deno task bench --smoke`. Same suite as Node, minus the Node-only peers.
 *
 * @module
 */
import { openDenoKvStore } from "../src/adapters/deno.ts";
import { withoutIdbfsNoise } from "./core/quiet.ts";
import { runSuite } from "./core/suite.ts";
import type { BenchEnv, ComponentName, FixtureName, HnswlibModule } from "./core/types.ts";

declare const Deno: {
  args: string[];
  version: { deno: string; v8: string };
  build: { os: string; arch: string };
  readFile(path: string | URL): Promise<Uint8Array>;
  readTextFile(path: string | URL): Promise<string>;
  writeTextFile(path: string | URL, data: string): Promise<void>;
  mkdir(path: string | URL, options?: { recursive?: boolean }): Promise<void>;
  remove(path: string | URL): Promise<void>;
  openKv?: unknown;
  memoryUsage(): { heapUsed: number; external: number; rss: number };
  loadavg(): number[];
  osRelease(): string;
  systemMemoryInfo(): { total: number };
  env: { get(key: string): string | undefined };
  exit(code: number): never;
};

const root = new URL("../", import.meta.url);
const smoke = Deno.args.includes("--smoke");
const only = Deno.args.filter((a) => !a.startsWith("--"));

async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
const env: BenchEnv = {
  runtime: "deno",
  runtimeVersion: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
  machine: {
    cpu: await cpuModel(),
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${tryOr(() => Deno.osRelease(), "")}`.trim(),
    memoryGiB: tryOr(() => Math.round(Deno.systemMemoryInfo().total / 2 ** 30), 0),
  },
  smoke,
  async component(name: ComponentName) {
    try {
      return await Deno.readFile(new URL(`plugins-wasm/dist/${name}.wasm`, root));
    } catch {
      return undefined;
    }
  },
  async fixture(name: FixtureName) {
    try {
      return await Deno.readFile(new URL(`bench/fixtures/${name}.wasm`, root));
    } catch {
      return undefined;
    }
  },
  // Deno's `external` counts ArrayBuffers (measured: not wasm linear memory, whose growth is measured per instance).
  memory: () => {
    const m = Deno.memoryUsage();
    return { heap: m.heapUsed, arrayBuffers: m.external, rss: m.rss };
  },
  gc: () => gc?.(),
  hnswlib: loadHnswlib,
  loadAverage: () => tryOr(() => Deno.loadavg()[0] as number, Number.NaN),
  // Deno KV in a file under node_modules/.cache (the bench task may write there), deleted again on close.
  ...(typeof Deno.openKv === "function"
    ? {
        async durableStore(name: string, observer?: import("../src/store/types.ts").StoreObserver) {
          const dir = new URL("node_modules/.cache/uni-bench/kv/", root);
          await Deno.mkdir(dir, { recursive: true });
          const file = new URL(`${name}-${Date.now()}.sqlite`, dir);
          const store = await openDenoKvStore(decodeURIComponent(file.pathname), observer ? { observer } : {});
          return {
            store,
            label: "Deno KV",
            async close() {
              await store.close();
              for (const suffix of ["", "-wal", "-shm"])
                await Deno.remove(new URL(`${file.href}${suffix}`)).catch(() => {});
            },
          };
        },
      }
    : {}),
  notHere: [
    {
      id: "call-overhead.peers",
      reason:
        "jco glue and Extism are set up from Node (jco's transpiler writes the glue to disk; the SDK loads from node_modules): Node only",
    },
  ],
  log: (line) => console.log(line),
};

/**
 * hnswlib-wasm 0.8.2 is built for browsers only: it loads once `window` exists (removed again after).
 * Its package has no entry Deno's resolver reads, so the file is imported by path. Its IndexedDB file
 * system cannot start here (./core/quiet.ts keeps that noise off the console); the in-memory indexes
 * the bench uses are unaffected.
 */
async function loadHnswlib(): Promise<HnswlibModule> {
  const g = globalThis as { window?: unknown };
  const had = "window" in g;
  g.window ??= globalThis;
  try {
    const url = new URL("node_modules/hnswlib-wasm/dist/hnswlib.js", root).href;
    const { loadHnswlib: load } = (await import(url)) as { loadHnswlib: () => Promise<HnswlibModule> };
    return await withoutIdbfsNoise(load, (line) => console.log(line));
  } finally {
    if (!had) delete g.window;
  }
}

const { results, failures } = await runSuite(env, only);
if (!smoke && !only.length) {
  const dir = new URL("bench/results/", root);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(new URL("deno.json", dir), `${JSON.stringify(results, null, 2)}\n`);
  console.log("wrote bench/results/deno.json");
}
if (failures.length) {
  console.error(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.id).join(", ")}`);
  Deno.exit(1);
}
console.log(`bench ${smoke ? "smoke " : ""}ok: ${results.figures.length} figures, ${results.skipped.length} skipped`);
