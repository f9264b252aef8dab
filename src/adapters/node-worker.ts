/**
 * The worker script of the Node adapter: serves one worker-hosted instance over `worker_threads`'
 * `parentPort` (Node workers have no Web `self`). Started by `nodeWorkerFactory()`; Node runs built
 * JavaScript only, so this runs as `dist/adapters/node-worker.js`.
 *
 * @module
 */
import { parentPort, type TransferListItem } from "node:worker_threads";
import { serveWorker } from "../worker/serve.ts";

if (!parentPort) throw new Error("node-worker.js runs inside a worker_threads Worker only");
const port = parentPort;
serveWorker({
  postMessage: (message, transfer) => port.postMessage(message, transfer as unknown as TransferListItem[]),
  listen: (handler) => {
    port.on("message", handler);
  },
});
