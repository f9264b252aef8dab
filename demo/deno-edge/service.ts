/**
 * The edge service: one durable `PluginHost` (its state in the store, restored at start), the CDC sink logs beside
 * it, and the HTTP routes on them (routes/*.ts). See demo/README.md for the API and GET /openapi.json for its
 * contract.
 *
 * @module
 */
import {
  type LiveCdc,
  type PluginHandle,
  type PluginHost,
  type PluginInfo,
  type Surface,
  toPluginError,
} from "../../src/mod.ts";
import type { StateStore } from "../../src/store/mod.ts";
import { SinkLog } from "./cdc-sink.ts";
import { errorResponse } from "./http-errors.ts";
import { forHttp } from "./messages.ts";
import { Metrics } from "./metrics.ts";
import { type Route, Router } from "./router.ts";
import { cdcRoutes } from "./routes/cdc.ts";
import { crdtRoutes } from "./routes/crdts.ts";
import { indexRoutes } from "./routes/indexes.ts";
import { pluginRoutes } from "./routes/plugins.ts";
import { systemRoutes } from "./routes/system.ts";

export type RestoreReport = Awaited<PluginHost["restored"]>;

/** A CDC stream's sink: its log, or why it has none (its log could not be opened). */
interface Sink {
  stream: LiveCdc;
  log: SinkLog | null;
  problem: string | null;
  unsubscribe: () => void;
}

export class EdgeService {
  readonly metrics = new Metrics();
  readonly router: Router;
  readonly startedAt = Date.now();
  readonly #sinks = new Map<string, Sink>();

  constructor(
    readonly host: PluginHost,
    readonly store: StateStore,
    /** What the restore at start brought back and set aside. */
    readonly restore: RestoreReport,
  ) {
    const routes: Route[] = [
      ...systemRoutes(this),
      ...pluginRoutes(this),
      ...indexRoutes(this),
      ...crdtRoutes(this),
      ...cdcRoutes(this),
    ];
    this.router = new Router(routes);
  }

  /** Subscribes a sink log to every live CDC stream (after the restore). */
  async attachSinks(): Promise<void> {
    for (const { name } of this.resources("cdc")) {
      const stream = this.host.cdc(name);
      if (stream) await this.subscribe(stream);
    }
  }

  /**
   * Opens the sink log of `stream` where its sinks' acknowledgements stand and subscribes it. A log that cannot be
   * opened leaves the stream without a sink (its emits wait in the host's outbox) and is reported at /health.
   */
  async subscribe(stream: LiveCdc): Promise<void> {
    try {
      const log = await SinkLog.open(this.store, stream.name, stream.acknowledged);
      const unsubscribe = stream.onEmit(log.sink);
      this.#sinks.set(stream.name, { stream, log, problem: null, unsubscribe });
    } catch (err) {
      const problem = toPluginError(err).message;
      this.#sinks.set(stream.name, { stream, log: null, problem, unsubscribe: () => {} });
    }
  }

  sink(name: string): Sink | undefined {
    return this.#sinks.get(name);
  }

  get sinks(): ReadonlyMap<string, Sink> {
    return this.#sinks;
  }

  /** Removes the sink log of a stream that is gone (deleted, or dropped with its plugin). */
  async forgetSink(name: string): Promise<void> {
    this.#sinks.get(name)?.unsubscribe();
    this.#sinks.delete(name);
    await SinkLog.remove(this.store, name);
  }

  /** After an unload or a reload: sink logs of streams no longer live go too. */
  async reconcileSinks(): Promise<void> {
    for (const [name, sink] of [...this.#sinks]) {
      if (this.host.cdc(name) !== sink.stream) await this.forgetSink(name);
    }
  }

  /** The live resources of one surface, with the plugin serving each. */
  resources(surface: Surface): { name: string; key: string; plugin: PluginInfo }[] {
    return this.host
      .plugins()
      .flatMap((plugin) =>
        plugin.resources.filter((r) => r.surface === surface).map((r) => ({ name: r.name, key: r.key, plugin })),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  plugin(id: string): PluginInfo | undefined {
    return this.host.plugins().find((p) => p.id === id);
  }

  async handle(req: Request): Promise<Response> {
    const started = performance.now();
    const url = new URL(req.url);
    const match = this.router.match(req.method, url.pathname);
    let res: Response;
    try {
      res = await match.run(req, url);
    } catch (err) {
      const pluginId = match.path.startsWith("/plugins/{id}") ? safeDecode(url.pathname.split("/")[2]) : undefined;
      res = errorResponse(forHttp(toPluginError(err), pluginId));
    }
    this.metrics.request(`${req.method} ${match.path}`, res.status, performance.now() - started);
    return res;
  }
}

function safeDecode(part: string | undefined): string | undefined {
  if (part === undefined) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** How responses name the version serving a resource. */
export function servedBy(handle: PluginHandle): { id: string; version: string; generation: number } {
  return { id: handle.id, version: handle.version, generation: handle.generation };
}

/** A plugin as `GET /plugins` lists it. */
export function describePlugin(p: PluginInfo) {
  return {
    id: p.id,
    version: p.version,
    generation: p.generation,
    hash: p.hash,
    capabilities: p.capabilities,
    registered: p.registered,
    resources: p.resources,
  };
}
