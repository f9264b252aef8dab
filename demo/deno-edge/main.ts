/**
 * The Deno edge server: `deno task serve [-- --port 8787 --host 127.0.0.1 --kv path --preload a.wasm,b.wasm|none]`.
 *
 * On start it reopens everything Deno KV holds (plugins, indexes, CRDT states, CDC streams at their
 * checkpoints); with an empty KV it loads the `--preload` components (default: the v1 samples in
 * plugins-wasm/dist). Prints one JSON line `{"listening":"http://host:port", ...}` once it accepts requests.
 *
 * @module
 */
import { createDenoHost } from "../../src/adapters/deno.ts";
import { Deno } from "./deno-api.ts";
import { EdgeService } from "./edge.ts";
import { EdgeStore } from "./kv-store.ts";

const SAMPLES = ["vector-flat-v1", "crdt-v1", "changelog-v1", "types-v1"];
const repo = new URL("../../", import.meta.url);

function defaultPreload(): string[] {
  return SAMPLES.map((s) => new URL(`plugins-wasm/dist/${s}.wasm`, repo).pathname).filter((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false; // not built yet
    }
  });
}

/** `--name value` / `--name=value` flags (no JSR registry here, so no @std/cli). */
function parseFlags(argv: string[]): Record<string, string | undefined> {
  const known = new Set(["port", "host", "kv", "preload"]);
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i] as string);
    if (!m || !known.has(m[1] as string)) {
      console.error(`unknown argument ${argv[i]} (flags: --port, --host, --kv, --preload)`);
      return Deno.exit(2);
    }
    out[m[1] as string] = m[2] ?? argv[++i];
  }
  return out;
}

const args = parseFlags(Deno.args.filter((a) => a !== "--"));
const port = Number(args.port ?? Deno.env.get("EDGE_PORT") ?? 8787);
const hostname = args.host ?? Deno.env.get("EDGE_HOST") ?? "127.0.0.1";
const kvPath = args.kv ?? Deno.env.get("EDGE_KV") ?? new URL("demo/deno-edge/.data/edge.kv", repo).pathname;
const preload =
  args.preload === "none" ? [] : args.preload ? args.preload.split(",").filter(Boolean) : defaultPreload();

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be 0..65535, got ${args.port}`);
  Deno.exit(2);
}
await Deno.mkdir(new URL(".", `file://${kvPath}`), { recursive: true });
const kv = await Deno.openKv(kvPath);
const host = createDenoHost({
  onLog: ({ pluginId, level, message }) => console.error(`[${pluginId}] ${level}: ${message}`),
});
const service = new EdgeService(host, new EdgeStore(kv));
const restored = await service.restore(preload);

const server = Deno.serve(
  {
    port,
    hostname,
    onListen: ({ hostname: h, port: p }) => {
      console.log(JSON.stringify({ listening: `http://${h}:${p}`, kv: kvPath, restored }));
    },
  },
  (req) => service.handle(req),
);

// A clean stop (Ctrl-C / SIGTERM): finish in-flight requests, close KV. A kill -9 is fine too: every
// acknowledged write is already in KV.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    kv.close();
    Deno.exit(0);
  });
}
