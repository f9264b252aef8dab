// How the server refuses to start, as a person at a terminal sees it: one line on stderr saying what is wrong and
// what to do, no stack trace, a non-zero exit code (2: the command line; 1: starting failed). And the paths it
// accepts: a relative --kv resolves against the directory the command was started in.
import { writeFile, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { repoRoot, runEdge, startEdge, tempDir } from "./edge-process.ts";

/** One line, starting `edge:`, no stack frames, no "Uncaught". */
function plainLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).to.have.length(1);
  expect(lines[0]).to.match(/^edge: /);
  expect(stderr).not.to.match(/Uncaught|\bat .*:\d+:\d+|error: /);
  return lines[0] as string;
}

describe("edge server: start-up errors said plainly", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    tmp = await tempDir("edge-start-");
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  it("a port in use: exit 1, naming the port and how to pick another", async () => {
    const first = await startEdge(tmp.dir, { kv: join(tmp.dir, "a.kv") });
    try {
      const second = await runEdge(tmp.dir, { port: first.port, kv: join(tmp.dir, "b.kv") });
      expect(second.code).to.equal(1);
      const line = plainLine(second.stderr);
      expect(line).to.contain(`port ${first.port}`);
      expect(line).to.contain("--port");
      expect(second.stdout).to.equal("");
    } finally {
      await first.kill();
    }
  });

  it("a relative --kv resolves against where the command was started (cwd, or INIT_CWD under deno task)", async () => {
    const fromCwd = await startEdge(tmp.dir, { kv: "rel/one.kv", cwd: tmp.dir });
    await fromCwd.kill();
    expect((await stat(join(tmp.dir, "rel/one.kv"))).isFile()).to.equal(true);
    // deno task runs in the repository root and says where it was started in INIT_CWD.
    const fromTask = await startEdge(tmp.dir, { kv: "rel/two.kv", cwd: repoRoot, env: { INIT_CWD: tmp.dir } });
    await fromTask.kill();
    expect((await stat(join(tmp.dir, "rel/two.kv"))).isFile()).to.equal(true);
  });

  it("a --kv the server may not write: exit 2, with the command that would work", async () => {
    const elsewhere = await tempDir("edge-elsewhere-");
    try {
      const res = await runEdge(tmp.dir, { kv: join(elsewhere.dir, "x.kv") });
      expect(res.code).to.equal(2);
      const line = plainLine(res.stderr);
      expect(line).to.contain(`may not read and write in ${elsewhere.dir}`);
      expect(line).to.contain(`--allow-write=${elsewhere.dir}`);
    } finally {
      await elsewhere.remove();
    }
  });

  it("a --kv that is a directory: exit 2, suggesting a file in it", async () => {
    await mkdir(join(tmp.dir, "adir"), { recursive: true });
    const res = await runEdge(tmp.dir, { kv: join(tmp.dir, "adir") });
    expect(res.code).to.equal(2);
    expect(plainLine(res.stderr)).to.contain(
      `is a directory; give a file path inside it, e.g. --kv ${join(tmp.dir, "adir", "edge.kv")}`,
    );
  });

  it("a --kv that is not a Deno KV database: exit 1, naming the file", async () => {
    const path = join(tmp.dir, "not-a.kv");
    await writeFile(path, "this is not sqlite ".repeat(100));
    const res = await runEdge(tmp.dir, { kv: path });
    expect(res.code).to.equal(1);
    expect(plainLine(res.stderr)).to.contain(`cannot open Deno KV at ${path}`);
  });

  it("command-line mistakes: exit 2 with one line each", async () => {
    const cases: [string[], string][] = [
      [["--bogus"], 'unknown argument "--bogus"'],
      [["--port", "http"], "--port must be a number from 0 to 65535"],
      [["--port", "70000"], "--port must be a number from 0 to 65535"],
      [["--kv"], "--kv needs a value"],
      [["--kv", join(tmp.dir, "m.kv"), "--preload", join(tmp.dir, "missing.wasm")], "no such file"],
    ];
    for (const [args, message] of cases) {
      const res = await runEdge(tmp.dir, {
        args,
        permissions: [
          `--allow-read=${repoRoot},${tmp.dir}`,
          `--allow-write=${tmp.dir}`,
          "--allow-net=127.0.0.1",
          "--allow-env",
        ],
      });
      expect(res.code, args.join(" ")).to.equal(2);
      expect(plainLine(res.stderr), args.join(" ")).to.contain(message);
    }
  });

  it("a --preload file that is not a component: exit 1, naming it", async () => {
    const path = join(tmp.dir, "notes.wasm");
    await writeFile(path, "hello");
    const res = await runEdge(tmp.dir, { kv: join(tmp.dir, "p.kv"), preload: path });
    expect(res.code).to.equal(1);
    expect(plainLine(res.stderr)).to.contain(`--preload ${path}`);
  });

  it("--help prints the flags and exits 0", async () => {
    const res = await runEdge(tmp.dir, { args: ["--help"], permissions: ["--allow-env", `--allow-read=${repoRoot}`] });
    expect(res.code).to.equal(0);
    expect(res.stdout).to.contain("--kv");
    expect(res.stdout).to.contain("--preload");
  });
});
