// The author kit as a user gets it: the files `npm pack` would publish, installed into a throwaway folder next to
// links to this checkout's node_modules (the registry is not needed, and nothing points back at the checkout's
// sources). Projects are scaffolded beside it, so they resolve `uni-plugin-runtime` exactly as after
// `npm install`. Node only: it spawns processes and touches the file system.
import { spawn, spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));

export interface Kit {
  /** The folder holding node_modules and the scaffolded projects. */
  root: string;
  /** The installed package's CLI entry. */
  cli: string;
  dispose(): Promise<void>;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Installs the package's publishable files (`npm pack --dry-run` lists them) into a fresh folder. */
export async function installKit(): Promise<Kit> {
  const root = await mkdtemp(join(tmpdir(), "uni-kit-"));
  const listing = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: repo,
    encoding: "utf8",
  });
  if (listing.status !== 0) throw new Error(`npm pack --dry-run failed: ${listing.stderr}`);
  const files: { path: string }[] = JSON.parse(listing.stdout)[0].files;
  const pkg = join(root, "node_modules", "uni-plugin-runtime");
  for (const { path } of files) {
    await mkdir(dirname(join(pkg, path)), { recursive: true });
    await cp(join(repo, path), join(pkg, path));
  }
  // Every other dependency: a link into this checkout's node_modules (what npm install would have fetched).
  const modules = join(repo, "node_modules");
  for (const name of await readdir(modules)) {
    if (name === ".bin" || name === ".package-lock.json" || name === "uni-plugin-runtime") continue;
    await symlink(join(modules, name), join(root, "node_modules", name));
  }
  // node_modules/.bin as npm makes it, with the package's own bin added (npm run finds it there).
  const bin = join(root, "node_modules", ".bin");
  await mkdir(bin);
  for (const name of await readdir(join(modules, ".bin"))) {
    await symlink(join(modules, ".bin", name), join(bin, name));
  }
  await symlink("../uni-plugin-runtime/cli/uni-plugin.mjs", join(bin, "uni-plugin"));
  return {
    root,
    cli: join(pkg, "cli", "uni-plugin.mjs"),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * The environment the CLI runs in here. Rust builds share the samples' cargo target folder: `npm test` builds
 * the samples first (check:plugins), so std (the slow part, rebuilt from source) is already there and the
 * templates reuse it (std's build does not depend on the workspace). A user's builds share
 * ~/.cache/uni-plugin/cargo-target the same way.
 */
const env = { ...process.env, NO_COLOR: "1", CARGO_TARGET_DIR: join(repo, "plugins-wasm/rust/target") };

/** Runs a command to completion, capturing its output. */
export function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** `uni-plugin <args>` from the installed kit. */
export function cli(kit: Kit, args: string[], cwd = kit.root): Promise<Run> {
  return run(process.execPath, [kit.cli, ...args], cwd);
}

/** Replaces exactly one occurrence of `from` in a project file (fails loudly when the template changed). */
export async function edit(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, "utf8");
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`${file}: expected exactly one "${from}"`);
  await writeFile(file, text.slice(0, at) + to + text.slice(at + from.length));
}

/** Copies a scaffolded project (without its build output) to make a variant of it. */
export async function variant(project: string, name: string): Promise<string> {
  const to = join(dirname(project), name);
  await cp(project, to, { recursive: true, filter: (src) => !src.includes(`${project}/build`) });
  return to;
}

/** Everything a run printed, for assertion messages. */
export const printed = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A long-running CLI process (e.g. `dev`) whose output can be awaited line by line. */
export interface Running {
  /** Resolves with everything printed so far once `pattern` shows up in stdout; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGINT (Ctrl-C) to this process only, and resolves with its exit code. */
  stop(): Promise<number>;
  output(): string;
}

export function start(kit: Kit, args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [kit.cli, ...args], { cwd, env });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  return {
    output: () => out,
    waitFor(pattern, timeoutMs = 240_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(out);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGINT");
      return await exited;
    },
  };
}
