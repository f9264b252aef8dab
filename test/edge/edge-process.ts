// Starts demo/deno-edge as a child process on a free loopback port and stops it (kill -9, or SIGTERM), or runs
// it to see how it refuses to start. Runs under `deno test` (deno task test:edge).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChildProcess, Deno } from "../../demo/deno-edge/deno-api.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface EdgeServer {
  url: string;
  port: number;
  /** The start line's `restored` list: what came back from KV (and what was set aside). */
  restored: string[];
  /** How many records the restore set aside. */
  quarantined: number;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL: no shutdown hook runs; KV is left as the last acknowledged write left it. */
  kill(): Promise<void>;
  /** SIGTERM: the server shuts down cleanly; resolves with its exit code. */
  stop(): Promise<number>;
}

export async function tempDir(prefix = "edge-kv-"): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface EdgeOptions {
  /** `--preload` value (default `none`; `"default"`: no flag, so the server's own default, the v1 samples). */
  preload?: string;
  port?: number;
  /** The `--kv` value (default `<kvDir>/edge.kv`). */
  kv?: string;
  cwd?: string;
  /** Added to the environment, which is this process's without INIT_CWD (`deno task` sets it for the tests). */
  env?: Record<string, string>;
  /** Replaces the permission flags. */
  permissions?: string[];
  /** Replaces every argument after the permissions (for start-up refusals). */
  args?: string[];
}

function argsFor(kvDir: string, options: EdgeOptions): string[] {
  const permissions = options.permissions ?? [
    `--allow-read=${repoRoot},${kvDir}`,
    `--allow-write=${kvDir}`,
    "--allow-net=127.0.0.1",
    "--allow-env",
  ];
  const preload = options.preload === "default" ? [] : ["--preload", options.preload ?? "none"];
  const rest = options.args ?? [
    "--port",
    String(options.port ?? 0),
    "--kv",
    options.kv ?? join(kvDir, "edge.kv"),
    ...preload,
  ];
  return ["run", "--unstable-kv", ...permissions, join(repoRoot, "demo/deno-edge/main.ts"), ...rest];
}

function spawnEdge(kvDir: string, options: EdgeOptions): ChildProcess {
  const { INIT_CWD: _started, ...env } = Deno.env.toObject();
  return new Deno.Command(Deno.execPath(), {
    args: argsFor(kvDir, options),
    cwd: options.cwd ?? repoRoot,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A byte stream's chunks (the DOM typings tsc checks these files with have no async iteration of streams). */
export async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Collects a stream's text as it arrives. */
function collect(
  stream: ReadableStream<Uint8Array>,
  onText?: (all: string) => void,
): { text(): string; done: Promise<void> } {
  let all = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of chunks(stream)) {
      all += decoder.decode(chunk, { stream: true });
      onText?.(all);
    }
  })();
  return { text: () => all, done };
}

export async function startEdge(kvDir: string, preloadOrOptions: string | EdgeOptions = {}): Promise<EdgeServer> {
  const options = typeof preloadOrOptions === "string" ? { preload: preloadOrOptions } : preloadOrOptions;
  const child = spawnEdge(kvDir, options);
  const stderr = collect(child.stderr);
  let gotLine: (line: string) => void = () => {};
  const line = new Promise<string>((resolve) => {
    gotLine = resolve;
  });
  const stdout = collect(child.stdout, (all) => {
    const nl = all.indexOf("\n");
    if (nl >= 0) gotLine(all.slice(0, nl));
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    line,
    child.status.then(async (s) => {
      await stderr.done;
      throw new Error(`edge server exited with ${s.code} before listening\n${stderr.text()}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`edge server did not start in 60 s\n${stderr.text()}`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const ready = JSON.parse(first) as { listening: string; restored: string[]; quarantined: number };
  const finish = async () => {
    const status = await child.status;
    await Promise.all([stdout.done, stderr.done]);
    return status.code;
  };
  return {
    url: ready.listening,
    port: Number(new URL(ready.listening).port),
    restored: ready.restored,
    quarantined: ready.quarantined,
    stderr: () => stderr.text(),
    kill: async () => {
      child.kill("SIGKILL");
      await finish();
    },
    stop: async () => {
      child.kill("SIGTERM");
      return await finish();
    },
  };
}

/** Runs the server expecting it to refuse to start: its exit code and output (killed after 30 s if it does start). */
export async function runEdge(
  kvDir: string,
  options: EdgeOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnEdge(kvDir, options);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const status = await child.status;
  clearTimeout(timer);
  await Promise.all([stdout.done, stderr.done]);
  return { code: status.code, stdout: stdout.text(), stderr: stderr.text() };
}
