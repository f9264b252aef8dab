// vitest's Node project globalSetup: Node workers run built JavaScript only, so bundle the Node adapter's
// worker script (src/adapters/node-worker.ts and everything it imports) into dist/adapters/node-worker.js
// before any test starts. Always rebuilt (about a second): a test never runs a stale worker.
import { buildNodeWorker } from "../../scripts/build-worker.mjs";

export default async function setup(): Promise<void> {
  await buildNodeWorker();
}
