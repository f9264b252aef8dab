/**
 * Panel 1: the plugin table with upgrade buttons, the query loop's counters and its latency chart.
 * An upgrade is `host.reload(serving, v2Bytes)`; a refusal is a ReloadError naming the step and the reason.
 */
import uPlot from "uplot";
import { ReloadError, type ReloadReport } from "../../../../src/mod.ts";
import { $, type App, cell, changed } from "../app.ts";
import { componentBytes, describeError, FAMILIES, type Family, servingHandle } from "../plugins.ts";

/** Shows a reload's outcome: the steps with their timings, or the refusal. */
export function showReloadOutcome(target: HTMLElement, title: string, outcome: ReloadReport | unknown): void {
  target.hidden = false;
  if (outcome && typeof outcome === "object" && "ok" in outcome && (outcome as ReloadReport).ok) {
    const report = outcome as ReloadReport;
    target.className = "result ok";
    target.dataset.outcome = "ok";
    const steps = report.steps.map((s) => `${s.step} ${s.ms.toFixed(1)} ms`).join(" → ");
    const m = report.moved;
    target.textContent =
      `${title}: now serving ${report.to?.id} v${report.to?.version} (generation ${report.to?.generation}) ` +
      `in ${report.totalMs.toFixed(0)} ms.\nHanded over: ${m.indexes} index(es), ${m.crdtStates} CRDT state(s), ` +
      `${m.cdcStreams} CDC stream(s), ${(m.bytes / 1024).toFixed(0)} KiB of CRDT state.\nSteps: ${steps}`;
    return;
  }
  target.className = "result refused";
  target.dataset.outcome = "refused";
  const step = outcome instanceof ReloadError ? outcome.step : "";
  target.dataset.step = step;
  target.textContent =
    `${title}: refused.\n${describeError(outcome)}\n` +
    (outcome instanceof ReloadError ? "Nothing changed: the old version keeps serving." : "");
}

export function setupUpgrades(app: App, available: Set<string>): () => void {
  const body = $("plugin-rows");
  const result = $("reload-result");
  const busy = new Set<string>();

  async function upgrade(family: Family, stem: string, title: string): Promise<void> {
    const handle = servingHandle(app.host, family);
    if (!handle) return;
    busy.add(family.key);
    redraw();
    const short = `${family.key} → ${stem.replace(/^.*-(v2.*)$/, "$1")}`;
    app.loop.mark(`${short}…`);
    try {
      const bytes = await componentBytes(stem);
      const report = await app.host.reload(handle, bytes);
      app.loop.mark(`${short} ✓`);
      showReloadOutcome(result, title, report);
    } catch (err) {
      app.loop.mark(`${short} refused`);
      showReloadOutcome(result, title, err);
    } finally {
      busy.delete(family.key);
      changed(app);
    }
  }

  function button(label: string, testId: string, cls: string, disabled: boolean, onClick: () => void, why = "") {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (disabled && why) b.title = why;
    b.dataset.testid = testId;
    b.className = cls;
    b.disabled = disabled;
    b.addEventListener("click", onClick);
    return b;
  }

  function redraw(): void {
    body.replaceChildren(
      ...FAMILIES.map((family) => {
        const tr = document.createElement("tr");
        tr.dataset.testid = `plugin-${family.key}`;
        const handle = servingHandle(app.host, family);
        const serving = document.createElement("td");
        serving.className = "version";
        serving.dataset.testid = `serving-${family.key}`;
        serving.textContent = handle
          ? `v${handle.version} (gen ${handle.generation})`
          : "not loaded (component not built yet)";
        const actions = document.createElement("td");
        const running = busy.has(family.key);
        const onV2 = handle?.version.startsWith("2.") ?? false;
        actions.append(
          button(
            running ? "Reloading…" : "Upgrade to v2",
            `upgrade-${family.key}`,
            "primary",
            !handle || running || onV2 || !available.has(family.v2),
            () => void upgrade(family, family.v2, `Upgrade of ${family.pluginId} to v2`),
            onV2 ? "already on v2" : available.has(family.v2) ? "" : `${family.v2}.wasm is not built`,
          ),
          " ",
          button(
            "Try the incompatible upgrade",
            `incompatible-${family.key}`,
            "warn",
            !handle || running || !available.has(family.incompatible),
            () => void upgrade(family, family.incompatible, `Incompatible upgrade of ${family.pluginId}`),
            available.has(family.incompatible) ? "" : `there is no ${family.incompatible}.wasm sample component`,
          ),
        );
        const calls = cell("—");
        calls.dataset.testid = `calls-${family.key}`;
        tr.append(cell(family.pluginId), cell(family.title), serving, calls, actions);
        return tr;
      }),
    );
  }
  redraw();
  return redraw;
}

/** The loop's counters and latency chart, refreshed a few times a second. */
export function setupLoopView(app: App): () => void {
  const toggle = $("loop-toggle") as HTMLButtonElement;
  toggle.addEventListener("click", async () => {
    if (app.loop.running) await app.loop.stop();
    else app.loop.start();
    toggle.textContent = app.loop.running ? "Pause query loop" : "Resume query loop";
  });
  const el = $("latency-chart");
  const plot = new uPlot(
    {
      width: Math.max(320, el.clientWidth || 900),
      height: 200,
      scales: { x: { time: false }, y: { distr: 3 } },
      hooks: { draw: [(u: uPlot) => drawMarks(u, app.loop.marks)] },
      legend: { show: true },
      axes: [{ label: "seconds" }, { label: "ms" }],
      series: [
        { label: "t" },
        { label: "call latency (ms)", stroke: "#2457a6", width: 1, points: { show: false } },
        { label: "failed", stroke: "#d62728", paths: () => null, points: { show: true, size: 7, fill: "#d62728" } },
      ],
    },
    [[], [], []],
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 200 })).observe(el);
  return () => {
    const loop = app.loop;
    $("served").textContent = loop.served.toLocaleString("en");
    $("failed").textContent = loop.failed.toLocaleString("en");
    $("slowest").textContent = loop.maxMs.toFixed(0);
    $("gaps-top").textContent = String(app.audit.gapLsns);
    $("dups-top").textContent = String(app.audit.duplicateLsns);
    $("last-error").textContent = loop.lastError ? `last failure: ${loop.lastError}` : "";
    for (const [family, c] of loop.perFamily) {
      const td = document.querySelector(`[data-testid="calls-${family}"]`);
      if (td) td.textContent = `${c.served.toLocaleString("en")} (${c.failed})`;
    }
    const s = loop.samples;
    plot.setData([
      s.map((p) => p.t),
      s.map((p) => Math.max(0.01, p.ms)),
      s.map((p) => (p.ok ? null : Math.max(0.01, p.ms))),
    ]);
  };
}

/** Dashed vertical lines with labels where reloads started and ended. */
function drawMarks(u: uPlot, marks: readonly { t: number; label: string }[]): void {
  const ctx = u.ctx;
  const { top, height, left, width } = u.bbox;
  ctx.save();
  ctx.strokeStyle = "#8a4b00";
  ctx.fillStyle = "#8a4b00";
  ctx.setLineDash([4, 4]);
  ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
  let lastX = -Infinity;
  let row = 0;
  for (const m of marks) {
    const x = Math.round(u.valToPos(m.t, "x", true));
    if (x < left || x > left + width) continue;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    // Labels of marks close together step down instead of overlapping.
    row = x - lastX < 90 * devicePixelRatio ? (row + 1) % 4 : 0;
    lastX = x;
    ctx.fillText(m.label, x + 3, top + 12 * devicePixelRatio * (row + 1));
  }
  ctx.restore();
}
