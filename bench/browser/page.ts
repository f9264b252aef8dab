/**
 * Chromium entry: the page bench/chromium.mjs serves. Fetches components over
 * loopback, runs the shared suite, and leaves the outcome on `window.benchOutcome`
 * for the driver to collect. `?smoke=1` runs the smoke version.
 *
 * @module
 */
import { indexedDbStore } from "../../src/adapters/indexeddb.ts";
import { runSuite, type SuiteOutcome } from "../core/suite.ts";
import type { BenchEnv, ComponentName, FixtureName, HnswlibModule } from "../core/types.ts";

declare global {
  interface Window {
    benchOutcome?: Promise<SuiteOutcome>;
    benchLog: string[];
  }
}

const params = new URLSearchParams(location.search);
const memory = (performance as { memory?: { usedJSHeapSize: number } }).memory;
const gc = (globalThis as { gc?: () => void }).gc;
window.benchLog = [];

const env: BenchEnv = {
  runtime: "chromium",
  runtimeVersion: navigator.userAgent, // the driver replaces it with the browser's own version string
  machine: { cpu: "unknown", cores: navigator.hardwareConcurrency, os: navigator.platform },
  smoke: params.has("smoke"),
  async component(name: ComponentName) {
    const res = await fetch(`/dist/${name}.wasm`);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
  },
  async fixture(name: FixtureName) {
    const res = await fetch(`/fixtures/${name}.wasm`);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
  },
  // Chromium reports only the JS heap (precise with --enable-precise-memory-info): no ArrayBuffers, no RSS.
  memory: () => ({ heap: memory?.usedJSHeapSize ?? 0 }),
  gc: () => gc?.(),
  hnswlib: async () => {
    const { loadHnswlib } = (await import("hnswlib-wasm")) as unknown as { loadHnswlib: () => Promise<HnswlibModule> };
    return await loadHnswlib();
  },
  notHere: [
    {
      id: "call-overhead.peers",
      reason:
        "jco glue and Extism are set up from Node (jco's transpiler writes the glue to disk; the SDK loads from node_modules): Node only",
    },
  ],
  // IndexedDB, blob data in OPFS (the adapter's default), a new database per name, deleted again on close.
  async durableStore(name, observer) {
    const db = `uni-bench-${name}-${Date.now()}`;
    const store = indexedDbStore(db, observer ? { observer } : {});
    return {
      store,
      label: "IndexedDB + OPFS",
      async close() {
        await store.close();
        await new Promise((resolve) => {
          const req = indexedDB.deleteDatabase(db);
          req.onsuccess = req.onerror = req.onblocked = () => resolve(undefined);
        });
        const root = await navigator.storage.getDirectory();
        await root.removeEntry(`uni-store-${db}`, { recursive: true }).catch(() => {});
      },
    };
  },
  log: (line) => {
    window.benchLog.push(line);
    console.log(line);
  },
};

const only = params.getAll("only");
window.benchOutcome = runSuite(env, only);
