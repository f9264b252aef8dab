/**
 * The default worker: a module Web `Worker` running `entry.ts` (browsers, Deno). The constructor call
 * is written literally — `new Worker(new URL("./entry.ts", import.meta.url), { type: "module" })` —
 * because that is the pattern bundlers (Vite) detect to emit the worker as its own chunk; Deno runs
 * the `.ts` file directly; `npm run build` rewrites the URL to `./entry.js` in `dist/worker/`.
 *
 * Node has no global `Worker`: use `nodeWorkerFactory()` from the Node adapter.
 *
 * @module
 */
import type { WorkerFactory, WorkerLike } from "./types.ts";

/** A module Web Worker on this package's worker entry. `resourceLimits` does not exist on the Web: ignored. */
export const webWorkerFactory: WorkerFactory = () => {
  if (typeof Worker !== "function") {
    throw new Error(
      "this runtime has no Web Worker; pass a workerFactory (in Node: nodeWorkerFactory() from the Node adapter)",
    );
  }
  return new Worker(new URL("./entry.ts", import.meta.url), { type: "module" }) as WorkerLike;
};
