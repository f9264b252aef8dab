/**
 * Node adapter: file loading for `PluginHost`, and workers over `worker_threads` for worker-hosted
 * instances. The only Node-specific code.
 *
 * @example
 * ```ts
 * import { createNodeHost, nodeWorkerFactory } from "uni-plugin-runtime/node";
 * const host = createNodeHost();
 * await host.load("./plugins-wasm/dist/crdt-v1.wasm");
 * const instance = await WorkerInstance.spawn(module, { pluginId, grants, workerFactory: nodeWorkerFactory() });
 * ```
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type HostOptions, PluginHost } from "../host.ts";
import type { ReadFile } from "../sources.ts";
import type { WorkerFactory, WorkerLike, WorkerResourceLimits } from "../worker/types.ts";

/** Reads a plugin file by path or `file:` URL. */
export const readPluginFile: ReadFile = async (path) => new Uint8Array(await readFile(path));

/**
 * A `PluginHost` that can also load plugins from file paths, and host plugins in `worker_threads` workers
 * (`isolation: "worker"`, with the host's `workerResourceLimits` as each worker's heap limits).
 */
export function createNodeHost(options: HostOptions = {}): PluginHost {
  return new PluginHost({
    readFile: readPluginFile,
    workerFactory: nodeWorkerFactory(
      options.workerResourceLimits ? { resourceLimits: options.workerResourceLimits } : {},
    ),
    ...options,
  });
}

export interface NodeWorkerOptions {
  /**
   * The worker script (built JavaScript serving `serveWorker` over `parentPort`). Default: this
   * package's `dist/adapters/node-worker.js` — next to this file when it runs built, and the repository's
   * `dist/` when it runs from source (tests and benchmarks build it first).
   */
  entry?: string | URL;
  /**
   * Heap limits of every worker this factory makes (Node `resourceLimits`); a spawn's own
   * `resourceLimits` take precedence. They cap the worker's JavaScript heap, not guest linear memory
   * (that is the module's `memoryPagesCeiling`). Exceeding them crashes the worker:
   * `TrapError(ResourceLimit)` for the call in flight, and `onDeath`.
   */
  resourceLimits?: WorkerResourceLimits;
  /**
   * Node options of the worker threads. Default: the process's own (`process.execArgv`), less
   * `--input-type`, which a worker refuses (it only applies to code given with `--eval` / stdin).
   */
  execArgv?: string[];
}

/** Where the built Node worker script is, for this file's own location (built or source). */
export function defaultNodeWorkerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/adapters/node-worker.js", here) : new URL("./node-worker.js", here);
}

/**
 * A `WorkerFactory` over `worker_threads`, for `WorkerInstance.spawn(…, { workerFactory })`: the same
 * `postMessage`/`onmessage`/`onerror`/`terminate` shape as a Web Worker.
 *
 * # Errors
 * Throws (so `spawn` rejects with `PluginError(Io)`) when the worker script does not exist.
 */
export function nodeWorkerFactory(options: NodeWorkerOptions = {}): WorkerFactory {
  return (init) => {
    const entry = options.entry ?? defaultNodeWorkerEntry();
    const url =
      entry instanceof URL ? entry : /^(data:|[a-z][a-z0-9+.-]+:\/\/)/i.test(entry) ? new URL(entry) : undefined;
    // A file (path or file: URL) must exist; other URLs (data:) go to Node as they are.
    const path = url === undefined ? entry : url.protocol === "file:" ? fileURLToPath(url) : url;
    if (typeof path === "string" && !existsSync(path)) {
      throw new Error(`the worker script ${path} does not exist (run \`npm run build\`)`);
    }
    const limits = init.resourceLimits ?? options.resourceLimits;
    const execArgv = options.execArgv ?? process.execArgv.filter((arg) => !arg.startsWith("--input-type"));
    const worker = new Worker(path, { execArgv, ...(limits ? { resourceLimits: limits } : {}) });
    return wrap(worker);
  };
}

function wrap(worker: Worker): WorkerLike {
  let ended = false;
  const port: WorkerLike = {
    postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
    onmessage: null,
    onerror: null,
    terminate: () => {
      ended = true;
      return worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
  worker.on("message", (data: unknown) => port.onmessage?.({ data } as MessageEvent));
  worker.on("error", (error: Error) => {
    ended = true;
    port.onerror?.({ message: error.message, error } as ErrorEvent);
  });
  worker.on("exit", (code: number) => {
    if (!ended) port.onerror?.({ message: `the worker exited with code ${code}`, error: undefined } as ErrorEvent);
  });
  return port;
}

export { fileStore, openFileStore, NodeDirectory, type LogStoreOptions, type LogOpenReport } from "./node-fs.ts";
