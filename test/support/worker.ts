/**
 * Worker-hosted instances in the shared suite. The worker factory is provided per runtime, the way
 * fixtures are: Node has no Web Worker, so it gets the Node adapter's `nodeWorkerFactory()` (running the
 * worker script vitest's globalSetup bundles); Deno and Chromium use the core default (a module Web
 * Worker on src/worker/entry.ts). `spawnWorker` is `WorkerInstance.spawn` with that factory, and records
 * every `terminate()` the runtime makes, so tests can see a worker being ended.
 */
import type { ComponentModule } from "../../src/component/mod.ts";
import {
  type CallOptions,
  type SpawnOptions,
  sharedChannelAvailable,
  type WorkerFactory,
  WorkerInstance,
  type WorkerLike,
  webWorkerFactory,
} from "../../src/worker/mod.ts";

const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };
/** Node proper (Deno also defines `process`). */
export const isNode = g.Deno === undefined && typeof g.process?.versions?.node === "string";

/**
 * Whether this runtime can end a worker stuck in a loop. Deno 2.9 cannot: `Worker.terminate()` leaves a
 * thread spinning in a loop (JavaScript or wasm) spinning until the process exits (denoland/deno#35657).
 * There the hostile fixtures are switched to finite runaways (far longer than any deadline), so the
 * suite's threads come back once their loop is over instead of piling up on the machine's cores.
 */
export const endsStuckWorkers = g.Deno === undefined;

/** Switches a hostile-fixture instance to finite runaways where stuck workers cannot be ended (see above). */
export async function boundRunaways(w: WorkerInstance): Promise<void> {
  if (endsStuckWorkers) return;
  await (w.index as NonNullable<WorkerInstance["index"]>).build("bounded", new Uint8Array([1]));
}

let factory: Promise<WorkerFactory> | undefined;

/** This runtime's worker factory. */
export function workerFactory(): Promise<WorkerFactory> {
  factory ??= (async () => {
    if (!isNode) return webWorkerFactory;
    // Not a static import: the browser bundle must never see node: modules.
    const adapter = "../../src/adapters/node.ts";
    // Typed by hand: a type import would pull the Node adapter into Deno's type check too.
    const { nodeWorkerFactory } = (await import(/* @vite-ignore */ adapter)) as { nodeWorkerFactory(): WorkerFactory };
    return nodeWorkerFactory();
  })();
  return factory;
}

/** The channels this runtime offers (the shared one where shared memory exists: Node, Deno, the isolated page). */
export function channels(): ("atomics" | "message")[] {
  return sharedChannelAvailable() ? ["atomics", "message"] : ["message"];
}

/** Workers whose `terminate()` the runtime called, by plugin id. */
export const terminated: string[] = [];

/** `WorkerInstance.spawn` with this runtime's worker factory (unless the options bring their own). */
export async function spawnWorker(
  module: ComponentModule,
  options: SpawnOptions,
  call?: CallOptions,
): Promise<WorkerInstance> {
  const make = options.workerFactory ?? (await workerFactory());
  const tracking: WorkerFactory = (init) => {
    const worker = make(init);
    const terminate = worker.terminate.bind(worker);
    const tracked: WorkerLike = worker;
    tracked.terminate = () => {
      terminated.push(options.pluginId);
      return terminate();
    };
    return tracked;
  };
  return await WorkerInstance.spawn(module, { ...options, workerFactory: tracking }, call);
}

/** Awaits `promise`, returning the time it took to settle (ms) and how: its value or its error. */
export async function timed<T>(
  promise: Promise<T>,
): Promise<{ ms: number } & ({ ok: true; value: T } | { ok: false; error: unknown })> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - start, ok: true, value };
  } catch (error) {
    return { ms: performance.now() - start, ok: false, error };
  }
}

/** Polls `check` until it holds or `ms` pass (for what crosses asynchronously, like log lines). */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
