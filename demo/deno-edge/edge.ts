/**
 * The edge service: one PluginHost whose live state is mirrored into Deno KV, and the HTTP routes on it.
 * See demo/README.md for the API. State is written to KV before a request is answered, so whatever a
 * client saw acknowledged survives a kill -9.
 *
 * @module
 */
import {
  ErrorCode,
  fromIPC,
  type LiveCdc,
  type PluginHandle,
  PluginError,
  type PluginHost,
  type PluginInfo,
} from "../../src/mod.ts";
import { toPluginError } from "../../src/errors.ts";
import { Deno } from "./deno-api.ts";
import { errorBody, json, RequestError, statusOf } from "./http-errors.ts";
import type { EdgeStore } from "./kv-store.ts";
import { changeRows, indexRows, kOf, queryRows, readJson } from "./rows.ts";
import { Metrics } from "./metrics.ts";

/** Largest plugin upload accepted. */
const MAX_PLUGIN_BYTES = 64 * 1024 * 1024;

interface Sink {
  /** KV writes of emitted batches, in emit order: ingest answers only after they are done. */
  writes: Promise<void>;
  /** Set if KV refused a batch (it would have left a gap or a duplicate): the stream stops accepting ingest. */
  broken: PluginError | null;
}

export class EdgeService {
  readonly metrics = new Metrics();
  readonly #sinks = new Map<string, Sink>();
  readonly #attaching = new Map<string, Promise<LiveCdc>>();
  readonly #started = Date.now();

  constructor(
    readonly host: PluginHost,
    readonly store: EdgeStore,
  ) {}

  // Restart -----------------------------------------------------------------
  /** Reloads everything KV holds: plugins, then indexes, CRDT states, and CDC streams at their checkpoints. */
  async restore(preload: string[]): Promise<string[]> {
    const log: string[] = [];
    const ids = await this.store.pluginIds();
    for (const id of ids) {
      const bytes = await this.store.loadPlugin(id);
      if (!bytes) continue;
      const h = await this.host.load(bytes);
      log.push(`plugin ${h.id} v${h.version} (from KV)`);
    }
    if (!ids.length) {
      for (const path of preload) {
        const bytes = await Deno.readFile(path);
        const h = await this.host.load(bytes);
        await this.store.savePlugin(h.id, bytes);
        log.push(`plugin ${h.id} v${h.version} (preloaded from ${path})`);
      }
    }
    for (const { name, kind } of await this.store.indexes()) {
      const bytes = await this.store.indexBytes(name);
      if (bytes) {
        await this.host.openIndex(name, kind, bytes);
        log.push(`index ${name} (${kind}, ${bytes.byteLength} bytes)`);
      }
    }
    for (const { name, kind } of await this.store.crdts()) {
      const bytes = await this.store.crdtBytes(name);
      if (bytes) {
        await this.host.createCrdt(name, kind, bytes);
        log.push(`crdt ${name} (${kind})`);
      }
    }
    for (const { name, record } of await this.store.streams()) {
      await this.#attach(name, record.output, record.checkpoint);
      log.push(`cdc ${name} (${record.output}) resumed at LSN ${record.checkpoint}`);
    }
    return log;
  }

  async #attach(name: string, output: string, fromLsn: bigint): Promise<LiveCdc> {
    const cdc = await this.host.attachCdc(name, output, { fromLsn });
    const sink: Sink = { writes: Promise.resolve(), broken: null };
    this.#sinks.set(name, sink);
    cdc.onEmit((e) => {
      const rows = (() => {
        try {
          return fromIPC(e.payload).numRows;
        } catch {
          return 0;
        }
      })();
      const record = {
        lsnStart: e.lsnStart,
        lsnEnd: e.lsnEnd,
        rows,
        emittedBy: `${e.pluginId}@${e.version}`,
        payloadBytes: e.payload.byteLength,
      };
      sink.writes = sink.writes.then(async () => {
        if (sink.broken) return;
        const ok = await this.store.appendBatch(name, record, e.payload);
        if (!ok) {
          sink.broken = new PluginError(
            ErrorCode.Io,
            `cdc stream "${name}": the KV sink refused [${e.lsnStart}, ${e.lsnEnd}) (it does not continue the stored log)`,
          );
        }
      });
    });
    return cdc;
  }

  // HTTP ----------------------------------------------------------------------
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const started = performance.now();
    let route = "unknown";
    let res: Response;
    try {
      const match = this.#route(req.method, url.pathname);
      route = match.route;
      res = await match.run(req);
    } catch (err) {
      const e = err instanceof PluginError ? err : toPluginError(err);
      res = json(errorBody(e), statusOf(e));
    }
    this.metrics.request(route, res.status, performance.now() - started);
    return res;
  }

  #route(method: string, path: string): { route: string; run: (req: Request) => Promise<Response> } {
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const [a, b, c] = parts;
    const is = (m: string, n: number) => method === m && parts.length === n;
    if (is("GET", 1) && a === "health") return { route: "health", run: async () => this.#health() };
    if (is("GET", 1) && a === "metrics") return { route: "metrics", run: async () => this.#metrics() };
    if (a === "plugins") {
      if (is("GET", 1)) return { route: "plugins.list", run: async () => json(this.host.plugins().map(describe)) };
      if (is("POST", 1)) return { route: "plugins.upload", run: (req) => this.#upload(req) };
      if (is("POST", 3) && c === "reload")
        return { route: "plugins.reload", run: (req) => this.#reload(req, b as string) };
    }
    if (a === "indexes") {
      if (is("POST", 2)) return { route: "indexes.build", run: (req) => this.#buildIndex(req, b as string) };
      if (is("POST", 3) && c === "search")
        return { route: "indexes.search", run: (req) => this.#search(req, b as string) };
    }
    if (a === "crdts") {
      if (is("POST", 2)) return { route: "crdts.apply", run: (req) => this.#applyCrdt(req, b as string) };
      if (is("GET", 2)) return { route: "crdts.value", run: () => this.#crdtValue(b as string) };
    }
    if (a === "cdc") {
      if (is("POST", 3) && c === "ingest") return { route: "cdc.ingest", run: (req) => this.#ingest(req, b as string) };
      if (is("GET", 2)) return { route: "cdc.log", run: () => this.#cdcLog(b as string) };
    }
    return {
      route: "unknown",
      run: async () => {
        throw new RequestError(`no route ${method} ${path} (see demo/README.md for the API)`, 404, ErrorCode.NotFound);
      },
    };
  }

  #health(): Response {
    const broken = [...this.#sinks].filter(([, s]) => s.broken).map(([name]) => name);
    return json(
      {
        ok: broken.length === 0,
        uptimeMs: Date.now() - this.#started,
        plugins: this.host.plugins().map((p) => `${p.id}@${p.version}`),
        ...(broken.length ? { brokenSinks: broken } : {}),
      },
      broken.length ? 503 : 200,
    );
  }

  #metrics(): Response {
    const streams = [...this.#sinks.keys()].map((name) => {
      const cdc = this.host.cdc(name);
      return { name, next: cdc?.nextLsn ?? 0n, emitted: cdc?.emittedEnd ?? 0n };
    });
    return new Response(this.metrics.render(this.host.plugins(), streams), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  }

  async #bytes(req: Request): Promise<Uint8Array> {
    const length = Number(req.headers.get("content-length") ?? 0);
    if (length > MAX_PLUGIN_BYTES)
      throw new RequestError(`plugin too large: ${length} bytes (limit ${MAX_PLUGIN_BYTES})`, 413);
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength === 0) throw new RequestError("the request body is empty: POST the component's bytes");
    if (bytes.byteLength > MAX_PLUGIN_BYTES)
      throw new RequestError(`plugin too large (limit ${MAX_PLUGIN_BYTES} bytes)`, 413);
    return bytes;
  }

  async #upload(req: Request): Promise<Response> {
    const bytes = await this.#bytes(req);
    const handle = await this.host.load(bytes); // throws typed errors; nothing is registered on failure
    try {
      await this.store.savePlugin(handle.id, bytes);
    } catch (err) {
      await this.host.unload(handle, { force: true }); // not durable: not loaded either
      throw err;
    }
    return json(describe(this.#info(handle.id)), 201);
  }

  #info(id: string): PluginInfo {
    const info = this.host.plugins().find((p) => p.id === id);
    if (!info) throw new RequestError(`plugin ${id} is not loaded`, 404, ErrorCode.NotFound);
    return info;
  }

  async #reload(req: Request, id: string): Promise<Response> {
    const current: PluginHandle = this.#info(id);
    const bytes = await this.#bytes(req);
    let report: Awaited<ReturnType<PluginHost["reload"]>>;
    try {
      report = await this.host.reload(current, bytes);
    } catch (err) {
      this.metrics.reload(id, "refused");
      throw err;
    }
    this.metrics.reload(id, "ok");
    // The new version now serves: store its bytes, and its own persisted form of every state it holds.
    await this.store.savePlugin(id, bytes);
    for (const r of this.#info(id).resources) await this.#persist(r.surface, r.name);
    return json({ ok: true, plugin: describe(this.#info(id)), report });
  }

  async #persist(surface: string, name: string): Promise<void> {
    if (surface === "index") {
      const idx = this.host.index(name);
      if (idx) await this.store.saveIndex(name, idx.kind, await idx.persist());
    } else if (surface === "crdt") {
      const crdt = this.host.crdt(name);
      if (crdt) await this.store.saveCrdt(name, crdt.kind, await crdt.persist());
    }
    // CDC state is the sink's log and checkpoint in KV, written as batches are emitted.
  }

  async #buildIndex(req: Request, name: string): Promise<Response> {
    const body = await readJson(req);
    const kind = typeof body.kind === "string" ? body.kind : "vector.flat";
    const options = body.options ?? {};
    if (typeof options !== "object" || Array.isArray(options)) throw new RequestError("options must be a JSON object");
    const table = indexRows(body);
    const existing = this.host.index(name);
    if (existing) throw new RequestError(`index "${name}" already exists`, 409, ErrorCode.DuplicateKey);
    const idx = await this.host.createIndex(name, kind, table, options as object);
    try {
      await this.store.saveIndex(name, kind, await idx.persist());
    } catch (err) {
      await idx.drop();
      throw err;
    }
    return json({ name, kind, rows: table.numRows, servedBy: idx.servedBy }, 201);
  }

  async #search(req: Request, name: string): Promise<Response> {
    const idx = this.host.index(name);
    if (!idx) throw new RequestError(`no index "${name}"`, 404, ErrorCode.NotFound);
    const body = await readJson(req);
    const result = await idx.probe(queryRows(body), kOf(body));
    const rows = result.toArray().map((r) => {
      const o = r.toJSON() as { query: number; id: bigint; distance: number };
      return { query: o.query, id: Number(o.id), distance: o.distance };
    });
    return json({ index: name, servedBy: idx.servedBy, results: rows });
  }

  async #applyCrdt(req: Request, name: string): Promise<Response> {
    const body = await readJson(req);
    if (!("op" in body)) throw new RequestError('give `op`: the operation, e.g. ["replica-a", 1] for a pn-counter');
    let crdt = this.host.crdt(name);
    if (!crdt) {
      if (typeof body.kind !== "string") throw new RequestError(`crdt "${name}" does not exist yet: give its \`kind\``);
      crdt = await this.host.createCrdt(name, body.kind);
    } else if (body.kind !== undefined && body.kind !== crdt.kind) {
      throw new RequestError(`crdt "${name}" is a ${crdt.kind}, not a ${String(body.kind)}`, 409);
    }
    await crdt.apply(body.op);
    await this.store.saveCrdt(name, crdt.kind, await crdt.persist());
    return json({ name, kind: crdt.kind, value: await crdt.value(), servedBy: crdt.servedBy });
  }

  async #crdtValue(name: string): Promise<Response> {
    const crdt = this.host.crdt(name);
    if (!crdt) throw new RequestError(`no crdt "${name}"`, 404, ErrorCode.NotFound);
    return json({ name, kind: crdt.kind, value: await crdt.value(), servedBy: crdt.servedBy });
  }

  async #ingest(req: Request, name: string): Promise<Response> {
    const body = await readJson(req);
    const table = changeRows(body);
    const output = typeof body.output === "string" ? body.output : "changelog";
    const cdc = this.host.cdc(name) ?? (await this.#firstAttach(name, output));
    const sink = this.#sinks.get(name) as Sink;
    if (sink.broken) throw sink.broken;
    const { lsnStart, lsnEnd } = await cdc.publish(table);
    await cdc.checkpoint(); // flushes outputs that buffer (changelog v2) so the batch reaches the sink now
    await sink.writes;
    if (sink.broken) throw sink.broken;
    return json({ stream: name, lsnStart, lsnEnd, rows: table.numRows, sinkHas: cdc.emittedEnd });
  }

  /** Two first ingests into a new stream race here: both get the one attach. */
  #firstAttach(name: string, output: string): Promise<LiveCdc> {
    let pending = this.#attaching.get(name);
    if (!pending) {
      pending = this.store
        .registerStream(name, output)
        .then((record) => this.#attach(name, record.output, record.checkpoint))
        .finally(() => this.#attaching.delete(name));
      this.#attaching.set(name, pending);
    }
    return pending;
  }

  async #cdcLog(name: string): Promise<Response> {
    const record = (await this.store.streams()).find((s) => s.name === name);
    if (!record) throw new RequestError(`no cdc stream "${name}"`, 404, ErrorCode.NotFound);
    await this.#sinks.get(name)?.writes;
    return json({ stream: name, ...record.record, batches: await this.store.batches(name) });
  }
}

function describe(p: PluginInfo) {
  return {
    id: p.id,
    version: p.version,
    generation: p.generation,
    registered: p.registered,
    hash: p.hash,
    resources: p.resources,
  };
}
