/**
 * Panel 1: the plugin table with upgrade buttons, the query loop's counters, its latency chart and legend.
 * An upgrade is `host.reload(serving, v2Bytes)`; a refusal is a ReloadError naming the step and the reason,
 * shown to people as one sentence with the typed error behind "Technical details".
 */
import type { PluginInfo, ReloadReport } from "../../../../src/mod.ts";
import { $, type App, cell, changed } from "../app.ts";
import { reloadRefused, reloadSucceeded, showOutcome } from "../messages.ts";
import { componentBytes, FAMILIES, type Family, placement, servingHandle } from "../plugins.ts";
import { setupLatencyChart } from "./latency-chart.ts";

/** Reloads `pluginId` to `bytes` and shows the outcome in `target`; the chart gets a band for it. */
export async function reloadAndShow(
  app: App,
  target: HTMLElement,
  pluginId: string,
  bytes: Uint8Array,
  label: { family: string; short: string; wanted: string },
): Promise<ReloadReport | null> {
  const current = app.host.plugins().find((p) => p.id === pluginId);
  if (!current) return null;
  const mark = app.loop.beginReload(label.family, label.short);
  try {
    const report = await app.host.reload(current, bytes);
    app.loop.endReload(mark, "ok");
    showOutcome(target, reloadSucceeded(report, current.version));
    return report;
  } catch (err) {
    app.loop.endReload(mark, "refused");
    showOutcome(target, reloadRefused(err, pluginId, current.version, label.wanted));
    return null;
  } finally {
    changed(app);
  }
}

/** "1,234 (0)": a plugin's loop calls so far and how many failed; "not in the loop" for others. */
function loopCalls(app: App, family: string): string {
  const series = app.loop.series.get(family);
  if (!series) return "not in the loop";
  return `${series.served.toLocaleString("en")} (${series.failed})`;
}

function provides(info: PluginInfo): string {
  const surfaces: Record<string, string> = {
    index: "index",
    cdc: "CDC output",
    crdt: "CRDT",
    "logical-type": "logical type",
  };
  return (
    Object.entries(info.registered)
      .filter(([, keys]) => keys.length)
      .map(([surface, keys]) => `${surfaces[surface] ?? surface} ${keys.join(", ")}`)
      .join("; ") || "nothing"
  );
}

export function setupUpgrades(app: App, available: Set<string>): () => void {
  const body = $("plugin-rows");
  const result = $("reload-result");
  const busy = new Set<string>();

  async function upgrade(family: Family, stem: string): Promise<void> {
    const handle = servingHandle(app.host, family);
    if (!handle) return;
    busy.add(family.key);
    redraw();
    try {
      const bytes = await componentBytes(stem);
      const target = stem.replace(/^.*-(v2.*)$/, "$1");
      await reloadAndShow(app, result, handle.id, bytes, {
        family: family.key,
        short: `${family.key} v${handle.version.split(".")[0]} → ${target}`,
        wanted: stem === family.v2 ? "v2" : "the incompatible v2",
      });
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

  function familyRow(family: Family): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.dataset.testid = `plugin-${family.key}`;
    const handle = servingHandle(app.host, family);
    const serving = cell(
      handle ? `v${handle.version} (gen ${handle.generation})` : "not loaded (component not built yet)",
    );
    serving.className = "version";
    serving.dataset.testid = `serving-${family.key}`;
    const actions = document.createElement("td");
    const running = busy.has(family.key);
    const onV2 = handle?.version.startsWith("2.") ?? false;
    actions.append(
      button(
        running ? "Reloading…" : "Upgrade to v2",
        `upgrade-${family.key}`,
        "primary",
        !handle || running || onV2 || !available.has(family.v2),
        () => void upgrade(family, family.v2),
        onV2 ? "already on v2" : available.has(family.v2) ? "" : `${family.v2}.wasm is not built`,
      ),
      " ",
      button(
        "Try the incompatible upgrade",
        `incompatible-${family.key}`,
        "warn",
        !handle || running || !available.has(family.incompatible),
        () => void upgrade(family, family.incompatible),
        available.has(family.incompatible) ? "" : `there is no ${family.incompatible}.wasm sample component`,
      ),
    );
    const calls = cell(loopCalls(app, family.key));
    calls.dataset.testid = `calls-${family.key}`;
    tr.append(cell(family.pluginId), cell(family.title), serving, cell(placement(family.loadOptions)), calls, actions);
    return tr;
  }

  /** A plugin no family knows: one the user dropped in. */
  function otherRow(info: PluginInfo): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.dataset.testid = `plugin-${info.id}`;
    tr.className = "dropped";
    const serving = cell(`v${info.version} (gen ${info.generation})`);
    serving.className = "version";
    serving.dataset.testid = `serving-${info.id}`;
    const note = info.registered.crdt.length
      ? "loaded from a file: try its CRDT kinds in panel 7"
      : "loaded from a file (panel 6)";
    tr.append(
      cell(info.id),
      cell(provides(info)),
      serving,
      cell("the page's thread"),
      cell("not in the loop"),
      cell(note),
    );
    return tr;
  }

  function redraw(): void {
    const familyIds = new Set(FAMILIES.map((f) => f.pluginId));
    const others = app.host
      .plugins()
      .filter((p) => !familyIds.has(p.id))
      .sort((a, b) => a.id.localeCompare(b.id));
    body.replaceChildren(...FAMILIES.map(familyRow), ...others.map(otherRow));
  }
  redraw();
  return redraw;
}

/** The loop's counters, latency chart and legend, refreshed a few times a second. */
export function setupLoopView(app: App): () => void {
  const toggle = $("loop-toggle") as HTMLButtonElement;
  toggle.addEventListener("click", async () => {
    if (app.loop.running) await app.loop.stop();
    else app.loop.start();
    toggle.textContent = app.loop.running ? "Pause query loop" : "Resume query loop";
  });
  const redrawChart = setupLatencyChart(app.loop, $("latency-chart"), $("latency-legend-rows"));
  return () => {
    const loop = app.loop;
    $("served").textContent = loop.served.toLocaleString("en");
    $("failed").textContent = loop.failed.toLocaleString("en");
    $("slowest").textContent = loop.maxMs.toFixed(0);
    $("gaps-top").textContent = String(app.audit.gapLsns);
    $("dups-top").textContent = String(app.audit.duplicateLsns);
    $("last-error").textContent = loop.lastError ? `last failure: ${loop.lastError}` : "";
    for (const family of loop.series.keys()) {
      const td = document.querySelector(`[data-testid="calls-${family}"]`);
      if (td) td.textContent = loopCalls(app, family);
    }
    redrawChart();
  };
}
