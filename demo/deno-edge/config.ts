/**
 * The server's command line: flags, environment, defaults, and every start-up mistake said in one plain line.
 * Relative paths are resolved against the directory the command was started in (`deno task` runs tasks in the
 * repository root and says where it was started in `INIT_CWD`).
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { Deno } from "./deno-api.ts";

/** A start-up mistake in what was asked (exit code 2), as opposed to a failure while starting (exit code 1). */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface Config {
  port: number;
  hostname: string;
  /** Absolute path of the Deno KV file. */
  kvPath: string;
  /** Absolute paths of the components to load on the first start; empty with `--preload none`. */
  preload: string[];
  /** Whether `--preload` was given (then a missing file is an error; the default list skips unbuilt samples). */
  preloadGiven: boolean;
}

const FLAGS = ["port", "host", "kv", "preload", "help"] as const;
type Flag = (typeof FLAGS)[number];

const SAMPLES = ["vector-flat-v1", "crdt-v1", "changelog-v1", "types-v1"];
export const repoRoot = new URL("../../", import.meta.url).pathname;
export const DEFAULT_KV = resolve(repoRoot, "demo/deno-edge/.data/edge.kv");

export const USAGE = `usage: deno task serve [-- --port 8787] [--host 127.0.0.1] [--kv path] [--preload a.wasm,b.wasm|none]

  --port     TCP port (0: any free port). Env EDGE_PORT. Default 8787.
  --host     address to listen on. Env EDGE_HOST. Default 127.0.0.1.
  --kv       Deno KV file holding all state. Env EDGE_KV. Default demo/deno-edge/.data/edge.kv.
             deno task serve may write only under demo/deno-edge/.data/; for a path elsewhere run
             deno run --unstable-kv --allow-read=. --allow-write=<dir> --allow-net --allow-env demo/deno-edge/main.ts
  --preload  components loaded on the first start (comma-separated), or none. Default: the v1 samples.`;

/** Where the command was started: relative paths mean paths from there. */
export function startDir(): string {
  return Deno.env.get("INIT_CWD") ?? Deno.cwd();
}

function parseFlags(argv: string[]): Partial<Record<Flag, string>> {
  const out: Partial<Record<Flag, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") continue;
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1] as Flag | undefined;
    if (!m || !name || !FLAGS.includes(name)) {
      throw new UsageError(
        `unknown argument ${JSON.stringify(arg)} (flags: ${FLAGS.map((f) => `--${f}`).join(", ")}; --help explains them)`,
      );
    }
    if (name === "help") {
      out.help = "true";
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

/** Reads flags and environment. Throws {@link UsageError} for anything malformed; `null` for `--help`. */
export function readConfig(argv: string[]): Config | null {
  const flags = parseFlags(argv);
  if (flags.help) return null;
  const portText = flags.port ?? Deno.env.get("EDGE_PORT") ?? "8787";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got ${JSON.stringify(portText)}`);
  }
  const hostname = flags.host ?? Deno.env.get("EDGE_HOST") ?? "127.0.0.1";
  const kvText = flags.kv ?? Deno.env.get("EDGE_KV");
  const kvPath = kvText === undefined ? DEFAULT_KV : resolve(startDir(), kvText);
  const preloadText = flags.preload;
  const preload =
    preloadText === "none"
      ? []
      : preloadText
        ? preloadText
            .split(",")
            .filter(Boolean)
            .map((p) => resolve(startDir(), p))
        : SAMPLES.map((s) => resolve(repoRoot, `plugins-wasm/dist/${s}.wasm`));
  return { port, hostname, kvPath, preload, preloadGiven: preloadText !== undefined };
}

async function granted(name: "read" | "write", path: string): Promise<boolean> {
  return (await Deno.permissions.query({ name, path })).state === "granted";
}

/**
 * Checks that the KV path can be used before anything opens it: Deno may read and write there, it is not a
 * directory, and its directory exists (created if Deno may).
 *
 * # Errors
 * {@link UsageError} naming the path and how to fix it.
 */
export async function checkKvPath(kvPath: string, given: string | undefined): Promise<void> {
  const shown = given !== undefined && !isAbsolute(given) ? `${given} (${kvPath})` : kvPath;
  const dir = dirname(kvPath);
  let isDirectory = false;
  try {
    isDirectory = (await Deno.stat(kvPath)).isDirectory;
  } catch {
    // absent (it is created), or not readable (the permission check below says so)
  }
  if (isDirectory) {
    throw new UsageError(
      `--kv ${shown} is a directory; give a file path inside it, e.g. --kv ${resolve(kvPath, "edge.kv")}`,
    );
  }
  if (!(await granted("write", dir)) || !(await granted("read", dir))) {
    throw new UsageError(
      `--kv ${shown}: this server may not read and write in ${dir}. ` +
        "`deno task serve` may write only under demo/deno-edge/.data/ (e.g. --kv demo/deno-edge/.data/other.kv); " +
        `elsewhere, run: ./node_modules/.bin/deno run --unstable-kv --allow-read=.,${dir} --allow-write=${dir} ` +
        `--allow-net --allow-env demo/deno-edge/main.ts --kv ${kvPath}`,
    );
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new UsageError(`--kv ${shown}: cannot create its directory ${dir}: ${(err as Error).message}`);
  }
}

/** The preload list, checked: a file given with --preload must exist; default samples not built yet are skipped. */
export async function checkPreload(config: Config): Promise<string[]> {
  const out: string[] = [];
  for (const path of config.preload) {
    let isFile = false;
    try {
      isFile = (await Deno.stat(path)).isFile;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (isFile) out.push(path);
    else if (config.preloadGiven) {
      throw new UsageError(`--preload ${path}: no such file (give .wasm components separated by commas, or none)`);
    }
  }
  return out;
}
