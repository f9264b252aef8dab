/**
 * The worker's entry script (Web Workers: browsers, Deno). It only starts {@link serveWorker}; a
 * custom entry for a bundler does the same.
 *
 * @module
 */
import { serveWorker } from "./serve.ts";

serveWorker();
