/**
 * The worker factory per runtime, provided the way fixtures are: Node has no Web Worker, so it gets the
 * Node adapter's `nodeWorkerFactory()` (the worker script vitest's globalSetup bundled); Deno and Chromium
 * use the core default (a module Web Worker on src/worker/entry.ts). `spawnWorker` is
 * `WorkerInstance.spawn` with that factory.
 */
import type { ComponentModule } from "../../src/component/mod.ts";
import { type CallOptions, type SpawnOptions, type WorkerFactory, WorkerInstance } from "../../src/worker/mod.ts";

const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };
/** Node proper (Deno also defines `process`). */
export const isNode = g.Deno === undefined && typeof g.process?.versions?.node === "string";
export const isDeno = g.Deno !== undefined;
export const isBrowser = !isNode && !isDeno;

let factory: Promise<WorkerFactory | undefined> | undefined;

/** This runtime's worker factory (undefined: the core default). */
export function workerFactory(): Promise<WorkerFactory | undefined> {
  factory ??= (async () => {
    if (!isNode) return undefined;
    // Not a static import: the browser bundle must never see node: modules.
    const adapter = "../../src/adapters/node.ts";
    const { nodeWorkerFactory } = (await import(/* @vite-ignore */ adapter)) as typeof import("../../src/adapters/node.ts");
    return nodeWorkerFactory();
  })();
  return factory;
}

/** `WorkerInstance.spawn` with this runtime's worker factory (unless the options bring their own). */
export async function spawnWorker(
  module: ComponentModule,
  options: SpawnOptions,
  call?: CallOptions,
): Promise<WorkerInstance> {
  const workerFactory_ = options.workerFactory ?? (await workerFactory());
  return await WorkerInstance.spawn(module, workerFactory_ ? { ...options, workerFactory: workerFactory_ } : options, call);
}
