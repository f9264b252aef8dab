/**
 * The Deno edge server: `deno task serve [-- --port 8787 --host 127.0.0.1 --kv path --preload a.wasm,b.wasm|none]`.
 *
 * A `PluginHost` whose state lives in Deno KV (`openDenoKvStore`): on start it restores every plugin at its
 * generation, every index, CRDT state and CDC stream; a record that cannot be restored is set aside and reported
 * at GET /health while the rest serves. On the very first start it loads the `--preload` components. Prints one
 * JSON line `{"listening":"http://host:port", ...}` once it answers requests.
 *
 * Exit codes: 0 after SIGINT/SIGTERM, 1 when starting failed (port in use, KV unreadable), 2 for a mistake in
 * the command line (bad flag, unusable --kv path, missing --preload file).
 *
 * @module
 */
import { createDenoHost, openDenoKvStore } from "../../src/adapters/deno.ts";
import { ErrorCode, type PluginHost, PluginError, toPluginError } from "../../src/mod.ts";
import type { StateStore } from "../../src/store/mod.ts";
import { checkKvPath, checkPreload, type Config, readConfig, UsageError, USAGE } from "./config.ts";
import { Deno, type HttpServer } from "./deno-api.ts";
import { markPreloaded, noteQuarantined, preloaded } from "./edge-records.ts";
import { loadOptions } from "./load-options.ts";
import { EdgeService, type RestoreReport } from "./service.ts";

/** Says what went wrong in one line on stderr and exits. */
function fail(message: string, code: 1 | 2): never {
  console.error(`edge: ${message}`);
  return Deno.exit(code);
}

/** Binds the port first: a port in use is reported before anything is opened or restored. */
function listen(config: Config, handler: (req: Request) => Promise<Response>): HttpServer {
  try {
    return Deno.serve({ port: config.port, hostname: config.hostname, onListen: () => {} }, handler);
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      return fail(
        `port ${config.port} on ${config.hostname} is already in use (another edge server?). ` +
          `Pick another with --port <n> (or EDGE_PORT), or --port 0 for any free port.`,
        1,
      );
    }
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
      return fail(`may not listen on ${config.hostname}:${config.port}: ${(err as Error).message}`, 1);
    }
    return fail(`cannot listen on ${config.hostname}:${config.port}: ${(err as Error).message}`, 1);
  }
}

/** Loads the preload components on the first start only; ids already loaded (an interrupted first start) are skipped. */
async function preload(host: PluginHost, store: StateStore, paths: string[]): Promise<string[]> {
  if (await preloaded(store)) return [];
  const lines: string[] = [];
  for (const path of paths) {
    try {
      const h = await host.load(await Deno.readFile(path), loadOptions("preload"));
      lines.push(`plugin ${h.id} ${h.version} (generation ${h.generation}, preloaded from ${path})`);
    } catch (err) {
      const e = toPluginError(err);
      if (e.code === ErrorCode.DuplicateKey) continue;
      throw new PluginError(e.code, `--preload ${path}: ${e.message}`, { cause: e });
    }
  }
  await markPreloaded(store);
  return lines;
}

function restoredLines(report: RestoreReport): string[] {
  return [
    ...report.plugins.map((p) => `plugin ${p.id} ${p.version} (generation ${p.generation}, from KV)`),
    ...report.resources.map((r) => `${r.surface} ${r.name} (from KV)`),
    ...report.quarantined.map((q) => `set aside ${q.key.join("/")}: ${q.reason}`),
  ];
}

async function start(): Promise<void> {
  let config: Config | null;
  try {
    config = readConfig(Deno.args);
    if (config === null) {
      console.log(USAGE);
      return Deno.exit(0);
    }
    await checkKvPath(config.kvPath, kvFlag() ?? Deno.env.get("EDGE_KV"));
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, 2);
    throw err;
  }
  let paths: string[];
  try {
    paths = await checkPreload(config);
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, 2);
    throw err;
  }

  let ready: (service: EdgeService) => void = () => {};
  const serving = new Promise<EdgeService>((resolve) => {
    ready = resolve;
  });
  const server = listen(config, async (req) => (await serving).handle(req));

  let store: StateStore;
  try {
    store = await openDenoKvStore(config.kvPath);
  } catch (err) {
    const e = toPluginError(err);
    const why = e.cause instanceof Error ? e.cause.message : e.message;
    return fail(`cannot open Deno KV at ${config.kvPath}: ${why}`, 1);
  }
  const host = createDenoHost({
    store,
    onLog: ({ pluginId, level, message }) => console.error(`[${pluginId}] ${level}: ${message}`),
  });
  let report: RestoreReport;
  let lines: string[];
  try {
    report = await host.restored;
    await noteQuarantined(store, report);
  } catch (err) {
    return fail(`cannot restore from ${config.kvPath}: ${toPluginError(err).message}`, 1);
  }
  try {
    lines = [...restoredLines(report), ...(await preload(host, store, paths))];
  } catch (err) {
    return fail(toPluginError(err).message, 1);
  }
  const service = new EdgeService(host, store, report);
  await service.attachSinks();
  ready(service);
  if (report.quarantined.length) {
    console.error(
      `edge: ${report.quarantined.length} stored record(s) could not be restored and were set aside; ` +
        "everything else serves. GET /health says what to do.",
    );
  }
  console.log(
    JSON.stringify({
      listening: `http://${server.addr.hostname}:${server.addr.port}`,
      kv: config.kvPath,
      restored: lines,
      quarantined: report.quarantined.length,
    }),
  );

  // A clean stop (Ctrl-C, SIGTERM): finish in-flight requests, write what is queued, close KV. A kill -9 is fine
  // too: every acknowledged write is already in KV.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await server.shutdown();
      await host.flush().catch(() => {});
      await store.close().catch(() => {});
      Deno.exit(0);
    });
  }
}

/** The raw `--kv` value as typed (for messages that show both it and what it resolved to). */
function kvFlag(): string | undefined {
  const args = Deno.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--kv") return args[i + 1];
    if (a.startsWith("--kv=")) return a.slice(5);
  }
  return undefined;
}

await start().catch((err) => fail(`could not start: ${toPluginError(err).message}`, 1));
