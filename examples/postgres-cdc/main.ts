/**
 * The Postgres CDC example as a process:
 * `deno run --unstable-kv --allow-net --allow-read --allow-write=<state dir> --allow-env examples/postgres-cdc/main.ts`.
 *
 * Configuration (environment): the standard `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE` for the source
 * database; `CDC_SINK_DATABASE` (default `PGDATABASE`) for the downstream tables; `CDC_SLOT` and `CDC_PUBLICATION`
 * (both must exist; the slot with plugin `pgoutput`); `CDC_PLUGIN`, the path of the CDC output component (default
 * `plugins-wasm/dist/changelog-v1.wasm`); `CDC_STATE_DIR`, a directory for the host's durable state (a Deno KV file):
 * with it, a restarted process restores the plugin version and the stream from there; without it, the host is in
 * memory and a restart rebuilds the stream from the sink's progress (see pipeline.ts).
 *
 * Prints one JSON line per event (`restored`, `started`, `confirmed`, `reloaded`, `command-failed`, `error`) on
 * stdout; after an `error` the pipeline has stopped (exit code 1 once stdin closes). Reads JSON lines on stdin:
 * `{"reload": "path/to/component.wasm"}` hot-reloads the output while it streams (a refused reload is reported as
 * `command-failed`, with the old version still serving).
 *
 * @module
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { type PluginHandle, PluginHost, type StateStore } from "../../src/mod.ts";
import { startPipeline } from "./pipeline.ts";
import { PostgresSink } from "./sink.ts";

const env = process.env;
const need = (name: string): string => {
  const value = env[name];
  if (!value) {
    console.error(`set ${name} (see examples/postgres-cdc/README.md)`);
    process.exit(2);
  }
  return value;
};
const say = (event: object) =>
  process.stdout.write(`${JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}\n`);

const source = {
  host: env.PGHOST ?? "127.0.0.1",
  port: Number(env.PGPORT ?? 5432),
  user: env.PGUSER ?? "postgres",
  password: env.PGPASSWORD,
  database: env.PGDATABASE ?? "postgres",
};
const slot = need("CDC_SLOT");
const publication = need("CDC_PUBLICATION");
const pluginPath = env.CDC_PLUGIN ?? new URL("../../plugins-wasm/dist/changelog-v1.wasm", import.meta.url).pathname;

const stateDir = env.CDC_STATE_DIR;
const host = new PluginHost({
  onLog: ({ level, message }) => say({ event: "log", level, message }),
  ...(stateDir ? { store: await openStore(stateDir) } : {}),
});
// A durable host first brings back what it held: the serving plugin version (a reload included) and the stream.
const restore = await host.restored;
const restored = host.plugins().find((p) => p.registered.cdc.includes("changelog"));
if (stateDir)
  say({ event: "restored", version: restored?.version ?? null, ms: restore.ms, quarantined: restore.quarantined });
const handle: PluginHandle = restored ?? (await host.load(await readFile(pluginPath)));
const sink = await PostgresSink.connect({ ...source, database: env.CDC_SINK_DATABASE ?? source.database });
const pipeline = await startPipeline({
  source,
  slot,
  publication,
  host,
  sink,
  onEvent: (e) => {
    say(e);
    if (e.event === "error") process.exitCode = 1;
  },
});

let serving: PluginHandle = handle;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  try {
    const command = JSON.parse(line) as { reload?: string };
    if (command.reload) {
      const report = await host.reload(serving, await readFile(command.reload));
      serving = report.to ?? serving;
      say({ event: "reloaded", version: serving.version, steps: report.steps.map((s) => s.step), ms: report.totalMs });
    }
  } catch (err) {
    say({ event: "command-failed", message: err instanceof Error ? err.message : String(err) });
  }
}
// stdin closed: stop cleanly.
await pipeline.stop();
await sink.close();
host.dispose();

/** The host's durable store: a Deno KV file in `dir` (the example runs in Deno; `--unstable-kv`). */
async function openStore(dir: string): Promise<StateStore> {
  await mkdir(dir, { recursive: true });
  const deno = (globalThis as { Deno?: { openKv(path: string): Promise<Parameters<typeof denoKvStore>[0]> } }).Deno;
  if (!deno) throw new Error("CDC_STATE_DIR needs Deno (Deno.openKv)");
  return denoKvStore(await deno.openKv(join(dir, "host.kv")), { closeKv: true });
}
