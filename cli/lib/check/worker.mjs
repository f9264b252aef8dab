// The worker side of guard.mjs: runs the checks, reporting each result as it lands.
import { parentPort, workerData } from "node:worker_threads";
import { CallWatch } from "./guard.mjs";
import { runCheck } from "./run.mjs";

const { bytes, options, shared } = workerData;
try {
  const report = await runCheck(bytes, {
    ...options,
    watch: new CallWatch(shared),
    onResult: (result) => parentPort.postMessage({ type: "result", result }),
  });
  parentPort.postMessage({ type: "done", report });
} catch (err) {
  parentPort.postMessage({ type: "error", name: err?.name, message: err?.message ?? String(err), hint: err?.hint });
}
