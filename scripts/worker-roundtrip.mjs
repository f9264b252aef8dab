// Measures the round trip of a trivial call (`index-handle.supports-filter` on the index-echo fixture) to a
// worker-hosted instance in Node, per channel, against the same call in-thread. Uses the built package
// (`npm run build` first). A measurement, not a test: the bench owner folds it into `npm run bench`.
//   node scripts/worker-roundtrip.mjs [calls=20000]
import { readFile } from "node:fs/promises";
import { nodeWorkerFactory } from "../dist/adapters/node.js";
import { ComponentInstance, ComponentModule } from "../dist/component/mod.js";
import { WorkerInstance } from "../dist/worker/mod.js";

const calls = Number(process.argv[2] ?? 20_000);
const bytes = new Uint8Array(await readFile(new URL("../test/fixtures/wasm/index-echo.wasm", import.meta.url)));
const module = await ComponentModule.compile(bytes);

/** Median, p90 and p99 of `n` awaited calls, in µs, after a warm-up of n / 4. */
async function measure(call) {
  for (let i = 0; i < calls / 4; i++) await call();
  const t = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await call();
    t[i] = (performance.now() - start) * 1000;
  }
  t.sort();
  const at = (q) => t[Math.min(calls - 1, Math.floor(calls * q))].toFixed(2);
  return { median: at(0.5), p90: at(0.9), p99: at(0.99) };
}

const results = {};
for (const channel of ["atomics", "message"]) {
  const w = await WorkerInstance.spawn(module, {
    pluginId: "bench",
    grants: new Set(),
    channel,
    workerFactory: nodeWorkerFactory(),
  });
  const handle = await w.index.build("echo", new Uint8Array([1]));
  results[channel] = await measure(() => handle.supportsFilter());
  await w.dispose();
}
const local = await ComponentInstance.instantiate(module, { pluginId: "bench", grants: new Set() });
const handle = local.index.build("echo", new Uint8Array([1]));
results["in-thread (awaited)"] = await measure(async () => handle.supportsFilter());
console.table(results);
