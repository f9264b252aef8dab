// Where the time goes when the demo hot-reloads its 100k-row vector index (v1 → v2).
//
//   node demo/web/tools/measure-reload-gap.mjs [--rows 100000] [--runs 3] [--url http://127.0.0.1:5173]
//
// Opens the demo in Debian's Chromium (never a downloaded browser), waits for setup, then for each run:
//   * reloads dev.uni.vector-flat to v2 through the page's own host (`window.demo`), timing every reload step
//     with `beforeStep` and marking them in the trace (performance.mark);
//   * records a Chromium trace (V8 GC, wasm compile, main-thread tasks) and the renderer's page faults from
//     /proc/<pid>/stat around the reload;
//   * then takes the reload apart outside the reload: persist the live index (copy out), open those bytes in a
//     fresh v2 instance on a second PluginHost (first touch of new wasm memory), open them again in the same
//     instance (memory already grown: no new page faults), and probe both.
// Prints one JSON report. Numbers depend on the machine and its load: run it alone for figures worth quoting.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumExecutable } from "../../../scripts/chromium.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg("rows", "100000"));
const runs = Number(arg("runs", "3"));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startVite() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "node_modules/vite/bin/vite.js",
      "--config",
      "demo/web/vite.config.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--strictPort",
    ],
    { cwd: repoRoot, env: { ...process.env, DEMO_NO_HMR: "1" }, stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/plugins/index.json`)).ok) return { url, stop: () => child.kill() };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error("vite did not start");
}

/** minflt/majflt of a process (fields 10 and 12 of /proc/pid/stat). */
function faults(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { minor: Number(fields[7]), major: Number(fields[9]) };
}

/** Renderer processes: descendants of the browser process started with --type=renderer. */
function rendererPids(browserPid) {
  const pids = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes("--type=renderer") && isDescendant(Number(name), browserPid)) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function parentOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function isDescendant(pid, ancestor) {
  for (let p = pid, hops = 0; p > 1 && hops < 10; hops++) {
    if (p === ancestor) return true;
    p = parentOf(p);
  }
  return false;
}

const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8",
  "v8.wasm",
  "disabled-by-default-v8.gc",
  "blink.user_timing",
];

/** Sums trace events on the renderer main thread inside [from, to] (trace clock, µs). */
function summariseTrace(trace, marks) {
  const events = trace.traceEvents ?? trace;
  const mainThreads = new Set(
    events
      .filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain")
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const markTs = (name) =>
    events.find((e) => e.name === name && (e.ph === "R" || e.ph === "I" || e.ph === "n" || e.ph === "b"))?.ts;
  const from = markTs(marks.from);
  const to = markTs(marks.to);
  if (from === undefined || to === undefined) return { note: "reload marks not found in the trace" };
  const inWindow = events.filter(
    (e) => e.ph === "X" && mainThreads.has(`${e.pid}:${e.tid}`) && e.ts + (e.dur ?? 0) >= from && e.ts <= to,
  );
  const sum = (filter) => {
    let ms = 0;
    let n = 0;
    for (const e of inWindow.filter(filter)) {
      ms += (e.dur ?? 0) / 1000;
      n++;
    }
    return { ms: Math.round(ms * 10) / 10, events: n };
  };
  const tasks = inWindow.filter((e) => e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask");
  const longest = tasks.reduce((m, e) => Math.max(m, (e.dur ?? 0) / 1000), 0);
  return {
    windowMs: Math.round((to - from) / 100) / 10,
    longestMainThreadTaskMs: Math.round(longest * 10) / 10,
    tasksOver16ms: tasks.filter((e) => e.dur > 16_000).map((e) => Math.round(e.dur / 100) / 10),
    gcMajor: sum((e) => /MajorGC|MarkCompact|V8.GC_MARK_COMPACTOR$/.test(e.name)),
    gcMinor: sum((e) => /MinorGC|Scavenge/.test(e.name) && !/Task/.test(e.name)),
    wasmCompile: sum((e) => /wasm.*[Cc]ompile|Compile.*[Ww]asm/.test(e.name)),
  };
}

const ownServer = arg("url") ? null : await startVite();
const url = arg("url") ?? ownServer.url;
const server = await chromium.launchServer({ executablePath: chromiumExecutable(), args: chromiumArgs });
const browser = await chromium.connect(server.wsEndpoint());
const report = { rows, runs: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
  const t0 = Date.now();
  await page.goto(`${url}/?rows=${rows}`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading", null, { timeout: 120_000 });
  report.setupMs = Date.now() - t0;
  if ((await page.evaluate(() => document.body.dataset.state)) !== "ready") throw new Error("demo setup failed");
  const renderer = rendererPids(server.process().pid)[0];

  for (let run = 0; run < runs; run++) {
    // Start every run from v1, so each one is the demo's vector upgrade.
    await page.evaluate(async () => {
      const { host } = globalThis.demo;
      const handle = host.provider("index", "vector.flat");
      if (handle.version.startsWith("1.")) return;
      const bytes = new Uint8Array(await (await fetch("/plugins/vector-flat-v1.wasm")).arrayBuffer());
      await host.reload(handle, bytes);
    });
    await new Promise((r) => setTimeout(r, 500));
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const before = renderer ? faults(renderer) : null;
    const steps = await page.evaluate(async () => {
      const { host } = globalThis.demo;
      const handle = host.provider("index", "vector.flat");
      const bytes = new Uint8Array(await (await fetch("/plugins/vector-flat-v2.wasm")).arrayBuffer());
      const starts = {};
      let longTasks = [];
      const observer = new PerformanceObserver((list) => {
        longTasks = longTasks.concat(list.getEntries().map((e) => Math.round(e.duration)));
      });
      observer.observe({ type: "longtask", buffered: false });
      performance.mark("reload:start");
      const t = performance.now();
      const report = await host.reload(handle, bytes, {
        beforeStep: (step) => {
          starts[step] = performance.now() - t;
          performance.mark(`reload:${step}`);
        },
      });
      performance.mark("reload:end");
      await new Promise((r) => setTimeout(r, 100));
      observer.disconnect();
      return {
        totalMs: report.totalMs,
        movedBytes: report.moved.bytes,
        steps: report.steps.map((s) => ({ step: s.step, ms: Math.round(s.ms * 10) / 10 })),
        longTasksMs: longTasks,
      };
    });
    const after = renderer ? faults(renderer) : null;
    const trace = JSON.parse((await browser.stopTracing()).toString("utf8"));
    report.runs.push({
      ...steps,
      rendererPageFaults:
        before && after ? { minor: after.minor - before.minor, major: after.major - before.major } : null,
      trace: summariseTrace(trace, { from: "reload:start", to: "reload:end" }),
    });
  }

  // The same work taken apart, outside any reload.
  report.parts = await page.evaluate(
    async (modUrl) => {
      const { PluginHost } = await import(modUrl);
      const { index, host } = globalThis.demo;
      const time = async (fn) => {
        const t = performance.now();
        const value = await fn();
        return [Math.round((performance.now() - t) * 10) / 10, value];
      };
      const [persistMs, bytes] = await time(() => index.persist());
      const side = new PluginHost();
      const v2 = new Uint8Array(await (await fetch("/plugins/vector-flat-v2.wasm")).arrayBuffer());
      const [loadMs] = await time(() => side.load(v2));
      const [firstOpenMs, first] = await time(() => side.openIndex("first", "vector.flat", bytes));
      const [secondOpenMs, second] = await time(() => side.openIndex("second", "vector.flat", bytes));
      await first.drop?.();
      const [thirdOpenMs] = await time(() => side.openIndex("third", "vector.flat", bytes));
      side.dispose();
      void host;
      void second;
      return {
        indexBytes: bytes.byteLength,
        persistMs,
        loadV2Ms: loadMs,
        firstOpenMs,
        secondOpenMs,
        reopenAfterDropMs: thirdOpenMs,
      };
    },
    "/@fs" + fileURLToPath(new URL("../../../src/mod.ts", import.meta.url)),
  );
} finally {
  await browser.close();
  await server.close();
  ownServer?.stop();
}
console.log(JSON.stringify(report, null, 2));
