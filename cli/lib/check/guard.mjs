// A call into wasm cannot be interrupted on its own thread, so a plugin stuck in a loop would hang `check`
// forever. `check` therefore runs in a worker; every plugin call publishes its name and start time in shared
// memory, and this thread ends the worker when one call outlives the hard limit, reporting which call it was.
import { Worker } from "node:worker_threads";

const NAME_BYTES = 256;

/** The worker's side: publishes the call in progress (written by Calls.run). */
export class CallWatch {
  /** @param {SharedArrayBuffer} shared */
  constructor(shared) {
    this.started = new Float64Array(shared, 0, 1);
    this.length = new Int32Array(shared, 8, 1);
    this.name = new Uint8Array(shared, 12, NAME_BYTES);
  }
  enter(call) {
    const bytes = new TextEncoder().encode(call).subarray(0, NAME_BYTES);
    this.name.set(bytes);
    Atomics.store(this.length, 0, bytes.length);
    this.started[0] = performance.timeOrigin + performance.now();
  }
  leave() {
    this.started[0] = 0;
  }
  /** This thread's view: the call in progress and for how long, or undefined. */
  current() {
    const since = this.started[0];
    if (since === 0) return undefined;
    const name = new TextDecoder().decode(this.name.slice(0, Atomics.load(this.length, 0)));
    return { call: name, ms: performance.timeOrigin + performance.now() - since };
  }
}

export const sharedSize = () => 12 + NAME_BYTES;

/**
 * Runs `runCheck` in a worker and stops it when a single call exceeds `hardLimitMs`.
 * @param {Uint8Array} bytes
 * @param {object} options runCheck's options (onResult is called here, on this thread)
 * @param {number} hardLimitMs
 * @returns {Promise<import("./run.mjs").CheckReport>}
 */
export function runCheckGuarded(bytes, options, hardLimitMs) {
  const shared = new SharedArrayBuffer(sharedSize());
  const watch = new CallWatch(shared);
  const { onResult, ...rest } = options;
  const worker = new Worker(new URL("./worker.mjs", import.meta.url), { workerData: { bytes, options: rest, shared } });
  const checks = [];
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const now = watch.current();
      if (!now || now.ms <= hardLimitMs) return;
      clearInterval(timer);
      worker.terminate();
      const result = {
        name: "time budget",
        ok: false,
        error: `${now.call} did not return within ${hardLimitMs} ms (stopped after ${Math.round(now.ms)} ms): a loop that never ends?`,
        hint: "a call into wasm cannot be interrupted: a host waits for it forever, and a hot reload with it",
      };
      checks.push(result);
      onResult?.(result);
      resolve({
        ok: false,
        plugin: {},
        checks,
        calls: { count: 0, budgetMs: rest.budgetMs, slowest: now },
        seed: rest.seed,
      });
    }, 100);
    worker.on("message", (message) => {
      if (message.type === "result") {
        checks.push(message.result);
        onResult?.(message.result);
      } else if (message.type === "done") {
        clearInterval(timer);
        worker.terminate();
        resolve(message.report);
      } else if (message.type === "error") {
        clearInterval(timer);
        worker.terminate();
        reject(Object.assign(new Error(message.message), { hint: message.hint, name: message.name }));
      }
    });
    worker.on("error", (err) => {
      clearInterval(timer);
      reject(err);
    });
  });
}
