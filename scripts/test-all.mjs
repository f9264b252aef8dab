// `npm test`: every gate, in order, in one command. Each step's pass/fail is kept; the run goes on after a
// failure so one report shows everything, then exits non-zero if anything failed.
//   lint -> typecheck -> check:plugins -> vitest node -> vitest crash (durable host under kill -9: Node, Deno, Chromium children) -> vitest browser (Chromium) -> deno test -> e2e (demo in Chromium) -> edge (Deno server) -> bench smoke
// Test runners write machine-readable reports to test-results/; the summary is computed from those reports,
// not from console output. The last line is always `N passed, N failed`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumExecutable } from "./chromium.mjs";
import { readDenoJunit, readPlaywrightJson, readVitestJson } from "./test-reports.mjs";
import { printSummary } from "./test-summary.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const resultsDir = join(root, "test-results");
const bin = (name) => join(root, "node_modules", ".bin", name);

// A hung step (a browser that never answers, a runner waiting on a lock) must not eat CI's whole budget:
// each step gets this long, then its whole process group (vitest's Chromium included) is killed.
// check:plugins gets longer: a clean Rust build compiles std from source (about a minute idle, several on a busy box).
const STEP_TIMEOUT_MS = Number(process.env.TEST_STEP_TIMEOUT_MS ?? 6 * 60_000);
const BUILD_TIMEOUT_MS = Number(process.env.TEST_BUILD_TIMEOUT_MS ?? 12 * 60_000);
const TIMED_OUT = 124; // the exit code timeout(1) uses
const children = new Set();
const describeExit = (code) => (code === TIMED_OUT ? "timed out" : `exit ${code}`);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const child of children) killGroup(child);
    process.exit(130);
  });
}
function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Runs a command with inherited stdio in its own process group; resolves to its exit code (127: could not start). */
function run(command, args, env = {}, timeoutMs = STEP_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, ...env },
      detached: true, // own process group, so a timeout can take its grandchildren down too
    });
    children.add(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`${command} ${args.join(" ")}: no result after ${timeoutMs / 1000} s, killed`);
      killGroup(child);
    }, timeoutMs);
    child.on("error", (err) => {
      console.error(`cannot start ${command}: ${err.message}`);
      clearTimeout(timer);
      children.delete(child);
      resolve(127);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve(timedOut ? TIMED_OUT : (code ?? (signal ? 128 : 1)));
    });
  });
}

/** @type {{ name: string, ok: boolean, note?: string, ms: number }[]} */
const steps = [];
/** @type {Map<string, import("./test-reports.mjs").FileResult[]>} runtime -> per-file results */
const runtimes = new Map();

async function step(name, body) {
  console.log(`\n=== ${name} ===`);
  const t0 = performance.now();
  let outcome;
  try {
    outcome = await body();
  } catch (err) {
    outcome = { ok: false, note: err instanceof Error ? err.message : String(err) };
  }
  const ms = Math.round(performance.now() - t0);
  steps.push({ name, ms, ...outcome });
  console.log(
    `=== ${name}: ${outcome.ok ? "ok" : "FAILED"}${outcome.note ? ` (${outcome.note})` : ""} in ${ms} ms ===`,
  );
}

/** A vitest project, with the json reporter next to the default one. */
async function vitestStep(project) {
  const report = join(resultsDir, `vitest-${project}.json`);
  const code = await run(process.execPath, [
    bin("vitest"),
    "run",
    "--project",
    project,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ]);
  const files = existsSync(report) ? await readVitestJson(report, root) : null;
  if (!files) return { ok: false, note: `${describeExit(code)}, no report written` };
  runtimes.set(project, files);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
}

await rm(resultsDir, { recursive: true, force: true });
await mkdir(resultsDir, { recursive: true });

await step("lint", async () => {
  const code = await run(process.execPath, [bin("biome"), "check", "."]);
  return {
    ok: code === 0,
    note:
      code === 0
        ? undefined
        : `${describeExit(code)}; see its output above; npx biome check --write . fixes formatting and safe lint fixes`,
  };
});

await step("typecheck", async () => {
  const code = await run(process.execPath, [bin("tsc"), "--noEmit", "-p", "tsconfig.json"]);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
});

await step("check:plugins", async () => {
  const code = await run(process.execPath, ["plugins-wasm/scripts/build.mjs", "--check"], {}, BUILD_TIMEOUT_MS);
  return {
    ok: code === 0,
    note:
      code === 0
        ? undefined
        : `${describeExit(code)}; see its output above; it needs apt-get install rustc-web cargo-web rust-web-src lld; npm run build:plugins refreshes a stale dist`,
  };
});

await step("node", () => vitestStep("node"));

// The durable host's crash tests (test/durable): child processes killed mid-workload, about 90 s; a step of its own
// so the node step stays within its timeout.
await step("crash", () => vitestStep("crash"));

await step("browser", async () => {
  const chromium = chromiumExecutable();
  if (!chromium) {
    return { ok: false, note: "no Chromium found (set CHROMIUM_PATH or run: apt-get install chromium)" };
  }
  return await vitestStep("browser");
});

await step("deno", async () => {
  // Type-checked once here; the test run itself skips it (Deno would type-check every worker it starts again).
  const checked = await run(bin("deno"), ["task", "check"], { NO_COLOR: "1" });
  if (checked !== 0) return { ok: false, note: `deno check: ${describeExit(checked)}` };
  const report = join(resultsDir, "deno.xml");
  // The task's own arguments come first; these are appended.
  const code = await run(bin("deno"), ["task", "test", `--junit-path=${report}`], { NO_COLOR: "1" });
  const files = existsSync(report) ? await readDenoJunit(await readFile(report, "utf8")) : null;
  if (!files)
    return { ok: false, note: `${describeExit(code)}, no report written (type error or a file that failed to load?)` };
  runtimes.set("deno", files);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
});

// The in-browser demo, driven end to end in Chromium by Playwright (screenshots in test-results/screenshots).
await step("e2e", async () => {
  if (!chromiumExecutable()) return { ok: false, note: "no Chromium found (apt-get install chromium)" };
  const report = join(resultsDir, "e2e.json");
  const code = await run(bin("playwright"), ["test", "-c", "test/e2e/playwright.config.ts", "--reporter=list,json"], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: report,
  });
  const files = existsSync(report) ? readPlaywrightJson(JSON.parse(await readFile(report, "utf8")), "test/e2e/") : null;
  if (!files) return { ok: false, note: `${describeExit(code)}, no report written` };
  runtimes.set("e2e", files);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
});

// The Deno edge server, started as a real process and driven over loopback (kill-and-restart resume included).
await step("edge", async () => {
  const report = join(resultsDir, "edge.xml");
  const code = await run(bin("deno"), ["task", "test:edge", `--junit-path=${report}`], { NO_COLOR: "1" });
  const files = existsSync(report) ? await readDenoJunit(await readFile(report, "utf8")) : null;
  if (!files) return { ok: false, note: `${describeExit(code)}, no report written` };
  runtimes.set("edge", files);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
});

// The benchmarks' smoke run: seconds, tiny sizes, every benchmark; it fails only if a benchmark throws (each one
// checks its subject's answers before timing it). Ratios are not judged here: see bench/README.md.
await step("bench:smoke", async () => {
  const code = await run(process.execPath, ["bench/run.mjs", "--smoke"]);
  return { ok: code === 0, note: code === 0 ? undefined : describeExit(code) };
});

const { passed, failed } = printSummary(
  steps,
  runtimes,
  ["node", "crash", "browser", "deno", "e2e", "edge"],
  ["node", "browser", "deno"],
);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || steps.some((s) => !s.ok) ? 1 : 0;
