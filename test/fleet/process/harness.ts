// Runs fleet nodes (fleet-node.ts) as child processes — Deno through the npm-installed deno, Node through a rolldown
// bundle — and talks to them over stdin/stdout. Used by fleet-processes.test.ts and bench/fleet.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";
import type { NodeStatus } from "../../../src/fleet/mod.ts";
import type { Config } from "./fleet-node.ts";

/** The repository (FLEET_REPO_ROOT when this file runs bundled, as bench/fleet.mjs runs it). */
export const repoRoot = process.env.FLEET_REPO_ROOT ?? fileURLToPath(new URL("../../../", import.meta.url));
const denoBin = join(repoRoot, "node_modules/.bin/deno");
const denoEntry = join(repoRoot, "test/fleet/process/deno-node.ts");

let bundled: Promise<string> | undefined;

/** The Node entry as one ESM file under node_modules/.cache (so its bare imports resolve from node_modules). */
export function nodeBundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = join(repoRoot, "node_modules", ".cache", "uni-fleet");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `node-node-${process.pid}.mjs`);
    await build({
      input: join(repoRoot, "test/fleet/process/node-node.ts"),
      platform: "node",
      external: (id) => !id.startsWith(".") && !id.startsWith("/"),
      logLevel: "warn",
      output: { file, format: "esm", codeSplitting: false },
    });
    return file;
  })();
  return bundled;
}

export type FleetEventLine = { event: { type: string; [k: string]: unknown }; at: number };

export interface StatusReply {
  status: NodeStatus;
  values: { hits: number; tags: string[] };
}

export class FleetProcess {
  readonly id: string;
  readonly runtime: "deno" | "node";
  readonly events: FleetEventLine[] = [];
  readonly failures: string[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #child: ChildProcess;
  #next = 0;
  #waiting = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void }>();
  #stderr = "";
  #alive = true;

  private constructor(runtime: "deno" | "node", id: string, child: ChildProcess) {
    this.id = id;
    this.runtime = runtime;
    this.#child = child;
    let out = "";
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    child.stdout?.on("data", (d) => {
      out += d;
      let nl = out.indexOf("\n");
      while (nl >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        nl = out.indexOf("\n");
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line);
        } catch {
          continue; // a line that is not ours (a runtime warning)
        }
        if ("ready" in msg) resolveReady();
        else if ("event" in msg) this.events.push(msg as FleetEventLine);
        else if ("failed" in msg) this.failures.push(String(msg.error));
        const n = (msg.ack ?? msg.reply) as number | undefined;
        if (typeof n === "number") {
          this.#waiting.get(n)?.resolve(msg);
          this.#waiting.delete(n);
        }
        if ("failed" in msg) {
          const cmd = msg.failed as Record<string, unknown>;
          const m = (cmd.op ?? cmd.status ?? cmd.createIndex ?? cmd.probe ?? cmd.stop) as number;
          this.#waiting.get(m)?.reject(new Error(`${this.id}: ${String(msg.error)}`));
          this.#waiting.delete(m);
        }
      }
    });
    child.stderr?.on("data", (d) => {
      this.#stderr = (this.#stderr + d).slice(-20_000);
    });
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.#alive = false;
        const err = new Error(`${this.id} exited (${code ?? signal}): ${this.#stderr.slice(-2000)}`);
        rejectReady(err);
        for (const w of this.#waiting.values()) w.reject(err);
        this.#waiting.clear();
        resolve({ code, signal });
      });
    });
    this.ready.catch(() => {});
  }

  /** Starts a node; resolves once it has joined the fleet (served the stable versions, opened the indexes). */
  static async start(
    runtime: "deno" | "node",
    id: string,
    kvPath: string,
    dir: string,
    config: Config,
  ): Promise<FleetProcess> {
    const args = [id, kvPath, JSON.stringify(config)];
    const child =
      runtime === "deno"
        ? spawn(
            denoBin,
            ["run", "--unstable-kv", `--allow-read=${repoRoot},${dir}`, `--allow-write=${dir}`, denoEntry, ...args],
            { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
          )
        : spawn(process.execPath, [await nodeBundle(), ...args], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    const p = new FleetProcess(runtime, id, child);
    await p.ready;
    return p;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get stderr(): string {
    return this.#stderr;
  }

  request(cmd: Record<string, unknown>, field: string): Promise<Record<string, unknown>> {
    const n = ++this.#next;
    return new Promise((resolve, reject) => {
      if (!this.#alive) return reject(new Error(`${this.id} is not running`));
      this.#waiting.set(n, { resolve, reject });
      this.#child.stdin?.write(`${JSON.stringify({ ...cmd, [field]: n })}\n`);
    });
  }

  /** Applies a CRDT op; resolves once the node acknowledged it (durable in its own namespace). */
  async op(crdt: "hits" | "tags", value: unknown[]): Promise<void> {
    await this.request({ crdt, value }, "op");
  }

  async status(): Promise<StatusReply> {
    const r = await this.request({}, "status");
    return { status: r.status as NodeStatus, values: r.values as StatusReply["values"] };
  }

  /** kill -9: no shutdown hook runs. */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.exited;
  }

  /** Leaves the fleet cleanly and exits. */
  async stop(): Promise<void> {
    if (!this.#alive) return;
    await this.request({}, "stop").catch(() => {});
    await this.exited;
  }
}
