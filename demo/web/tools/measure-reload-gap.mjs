// Where the time goes when the demo hot-reloads its 100k-row vector index (v1 → v2), measured in Debian's
// Chromium (never a downloaded browser):
//
//   node demo/web/tools/measure-reload-gap.mjs [--rows 100000] [--runs 5] [--url http://127.0.0.1:5173]
//
// Without --url it starts the demo's Vite server itself. It prints one JSON report:
//
//  ui      the demo's own Upgrade button, as a user clicks it, `runs` times (reloading back to v1 in between):
//          the reload's steps, the longest pause of a 1 ms timer on the page (the page's thread stuck), long
//          tasks, and what the query loop recorded for calls due during the reload (vector and crdt).
//  steps   the same reload through `demo.host.reload` with a Chromium trace around it: the steps, V8 GC,
//          wasm compile and the longest main-thread task inside the reload, and the renderer's page faults.
//  parts   the reload's work taken apart with the component API on the live index: compile v2 (cache
//          cleared), instantiate it, v1's persist (into v1's own memory, lent, no copy out), open of those
//          bytes in a fresh v2 instance (its memory grows: first-touch page faults), the same open again after
//          a drop (memory already there), with page faults for each.
//
// Numbers depend on the machine and on what else runs: run it on a quiet machine for figures worth quoting.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumExecutable } from "../../../scripts/chromium.mjs";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const srcMod = `/@fs${fileURLToPath(new URL("../../../src/mod.ts", import.meta.url))}`;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg("rows", "100000"));
const runs = Number(arg("runs", "5"));

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
  const vite = ["node_modules/vite/bin/vite.js", "--config", "demo/web/vite.config.ts"];
  const child = spawn(process.execPath, [...vite, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: repoRoot,
    env: { ...process.env, DEMO_NO_HMR: "1" },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/plugins/index.json`)).ok) return { url, stop: () => child.kill() };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error("vite did not start");
}

// ---- page faults of the browser's renderer processes (/proc) -----------------------------------------------
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function isDescendant(pid, ancestor) {
  for (let p = pid, hops = 0; p > 1 && hops < 12; hops++) {
    if (p === ancestor) return true;
    p = Number(statFields(p)[1]);
  }
  return false;
}

/** Minor and major page faults summed over the renderers this browser started. */
function rendererFaults(browserPid) {
  let minor = 0;
  let major = 0;
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, "utf8").includes("--type=renderer")) continue;
      if (!isDescendant(Number(name), browserPid)) continue;
      const f = statFields(name);
      minor += Number(f[7]);
      major += Number(f[9]);
    } catch {
      // the process ended while we looked
    }
  }
  return { minor, major };
}

// ---- trace -----------------------------------------------------------------------------------------------
const TRACE_CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8",
  "v8.wasm",
  "disabled-by-default-v8.gc",
  "blink.user_timing",
];

const round = (ms) => Math.round(ms * 10) / 10;

/** Main-thread work inside [reload:start, reload:end] of a Chromium trace. */
function summariseTrace(trace) {
  const events = trace.traceEvents ?? trace;
  const main = new Set(
    events
      .filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain")
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const mark = (name) => events.find((e) => e.name === name && e.cat?.includes("user_timing"))?.ts;
  const [from, to] = [mark("reload:start"), mark("reload:end")];
  if (from === undefined || to === undefined) return { note: "reload marks not in the trace" };
  const inside = events.filter(
    (e) => e.ph === "X" && main.has(`${e.pid}:${e.tid}`) && e.ts + (e.dur ?? 0) >= from && e.ts <= to,
  );
  const total = (test) => {
    const hits = inside.filter((e) => test.test(e.name));
    return { ms: round(hits.reduce((n, e) => n + (e.dur ?? 0), 0) / 1000), events: hits.length };
  };
  const tasks = inside.filter((e) => e.name === "RunTask");
  return {
    windowMs: round((to - from) / 1000),
    longestTaskMs: round(tasks.reduce((m, e) => Math.max(m, e.dur ?? 0), 0) / 1000),
    majorGc: total(/^(MajorGC|V8\.GCFinalizeMC)$/),
    minorGc: total(/^(MinorGC|V8\.GCScavenger)$/),
    wasmCompile: total(/^wasm\.(Compile|SyncCompile|AsyncCompile)/),
    growMemory: total(/^wasm\.GrowMemory$/),
  };
}

// ---- in the page ------------------------------------------------------------------------------------------
/** Reloads the vector plugin back to v1 if it is on v2 (so every measured reload is v1 → v2). */
async function backToV1(page) {
  await page.evaluate(async () => {
    const { host } = globalThis.demo;
    const handle = host.provider("index", "vector.flat");
    if (handle.version.startsWith("1.")) return;
    await host.reload(handle, new Uint8Array(await (await fetch("/plugins/vector-flat-v1.wasm")).arrayBuffer()));
  });
  await page.waitForFunction(() => globalThis.demo.host.provider("index", "vector.flat").version.startsWith("1."));
  await page.waitForTimeout(1500); // let the loop settle and the old instance be collected
}

/** Clicks the demo's Upgrade button; watches the page's thread with a 1 ms timer while it runs. */
function uiUpgrade(page) {
  return page.evaluate(async () => {
    const { loop } = globalThis.demo;
    const longTasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(Math.round(e.duration));
    });
    observer.observe({ type: "longtask" });
    let last = performance.now();
    let worst = 0;
    let beating = true;
    const beat = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      if (beating) setTimeout(beat, 1);
    };
    beat();
    await new Promise((r) => setTimeout(r, 500));
    const quietWorst = worst; // the same timer before the click: the page's normal hiccups
    worst = 0;
    const box = document.querySelector('[data-testid="reload-result"]');
    box.removeAttribute("data-outcome");
    document.querySelector('[data-testid="upgrade-vector"]').click();
    while (!box.dataset.outcome) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 1000));
    beating = false;
    observer.disconnect();
    const band = loop.reloads[loop.reloads.length - 1];
    const late = (family) => {
      const due = loop.series.get(family).samples.filter((s) => s.due >= band.from && s.due <= band.to);
      return due.length ? Math.round(Math.max(...due.map((s) => s.ms))) : null;
    };
    const steps = [...box.querySelectorAll("dt")].find((dt) => dt.textContent === "steps")?.nextElementSibling;
    return {
      outcome: box.dataset.outcome,
      reloadMs: Math.round((band.to - band.from) * 1000),
      steps: steps?.textContent ?? "",
      longestTimerPauseMs: Math.round(worst),
      longestTimerPauseBeforeClickMs: Math.round(quietWorst),
      longTasksMs: longTasks,
      worstVectorCallDueInReloadMs: late("vector"),
      worstCrdtCallDueInReloadMs: late("crdt"),
    };
  });
}

/** `host.reload` with user-timing marks at each step, for the trace. */
function markedReload(page) {
  return page.evaluate(async () => {
    const { host } = globalThis.demo;
    const handle = host.provider("index", "vector.flat");
    const bytes = new Uint8Array(await (await fetch("/plugins/vector-flat-v2.wasm")).arrayBuffer());
    performance.mark("reload:start");
    const report = await host.reload(handle, bytes, { beforeStep: (step) => performance.mark(`reload:${step}`) });
    performance.mark("reload:end");
    return {
      totalMs: Math.round(report.totalMs * 10) / 10,
      movedBytes: report.moved.bytes,
      steps: Object.fromEntries(report.steps.map((s) => [s.step, Math.round(s.ms * 10) / 10])),
    };
  });
}

/** One part of the reload's work, timed, with the page faults it caused. */
async function part(page, browserPid, name) {
  const before = rendererFaults(browserPid);
  const ms = await page.evaluate(async (step) => globalThis.__measure[step](), name);
  const after = rendererFaults(browserPid);
  return { ms: round(ms), minorFaults: after.minor - before.minor, majorFaults: after.major - before.major };
}

async function setUpParts(page) {
  await page.evaluate(async (modUrl) => {
    const { component } = await import(modUrl);
    const { ComponentModule, ComponentInstance } = component;
    const v2 = new Uint8Array(await (await fetch("/plugins/vector-flat-v2.wasm")).arrayBuffer());
    const live = globalThis.demo.index; // the demo's LiveIndex; `.handle` is its serving IndexHandle
    const state = {};
    const timed = async (fn) => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    const open = (instance) => (view) => instance.index.open("vector.flat", view);
    globalThis.__measure = {
      compile: () =>
        timed(async () => {
          ComponentModule.clearCache();
          state.module = await ComponentModule.compile(v2);
        }),
      instantiate: () =>
        timed(async () => {
          state.fresh = await ComponentInstance.instantiate(state.module, {
            pluginId: "dev.uni.vector-flat",
            grants: new Set(["index"]),
          });
        }),
      persistLent: () => timed(() => live.handle.persistLent((view) => view.byteLength)),
      openFresh: () => timed(() => (state.first = live.handle.persistLent(open(state.fresh)))),
      openAgainAfterDrop: () =>
        timed(() => {
          state.first.drop();
          state.first = live.handle.persistLent(open(state.fresh));
        }),
      cleanUp: () =>
        timed(() => {
          state.first.drop();
          state.fresh.dispose();
        }),
    };
  }, srcMod);
}

// ---- run --------------------------------------------------------------------------------------------------
const ownServer = arg("url") ? null : await startVite();
const url = arg("url") ?? ownServer.url;
const server = await chromium.launchServer({ executablePath: chromiumExecutable(), args: chromiumArgs });
const browserPid = server.process().pid;
const browser = await chromium.connect(server.wsEndpoint());
const report = { rows, runs, ui: [], steps: [], parts: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
  const t0 = Date.now();
  await page.goto(`${url}/?rows=${rows}`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading", null, { timeout: 180_000 });
  if ((await page.evaluate(() => document.body.dataset.state)) !== "ready") throw new Error("demo setup failed");
  await page.waitForFunction(() => document.getElementById("map-info").textContent.includes("Drag to zoom"), null, {
    timeout: 180_000,
  });
  report.setupMs = Date.now() - t0;

  for (let i = 0; i < runs; i++) {
    await backToV1(page);
    report.ui.push(await uiUpgrade(page));
  }
  for (let i = 0; i < runs; i++) {
    await backToV1(page);
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const before = rendererFaults(browserPid);
    const reload = await markedReload(page);
    const after = rendererFaults(browserPid);
    const trace = JSON.parse((await browser.stopTracing()).toString("utf8"));
    report.steps.push({ ...reload, minorFaults: after.minor - before.minor, trace: summariseTrace(trace) });
  }
  await backToV1(page);
  await setUpParts(page);
  for (let i = 0; i < runs; i++) {
    const one = {};
    for (const name of ["compile", "instantiate", "persistLent", "openFresh", "openAgainAfterDrop", "cleanUp"]) {
      one[name] = await part(page, browserPid, name);
    }
    report.parts.push(one);
  }
} finally {
  await browser.close();
  await server.close();
  ownServer?.stop();
}
console.log(JSON.stringify(report, null, 2));
