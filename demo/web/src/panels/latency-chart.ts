/**
 * The query loop's latency chart (uPlot) and its legend.
 *
 * One colour per plugin, one dot per call, at the time the call fell due (see load-loop.ts: latency counts from
 * then). Dots, not lines: a line through a series draws a diagonal across any stretch without calls and
 * suggests values nobody measured. Reloads are shaded bands from click to report, labelled in a strip above the
 * plot (so a label never hides a dot) in lanes, so labels never overlap each other: the newest are placed first,
 * and a label that fits no lane is left out (its band stays). The y axis is log10 with a label and a
 * grid line at every decade. The legend is a table that always shows each plugin's p50, p99 and max over the
 * window — no hovering needed.
 *
 * What the chart drew is also written on its element for the end-to-end tests: `data-y-ticks` (the axis labels)
 * and `data-labels` (the reload labels' boxes, in CSS pixels).
 */
import uPlot from "uplot";
import { formatMs, windowStats } from "../latency-stats.ts";
import type { LoadLoop, ReloadMark } from "../load-loop.ts";

export const FAMILY_COLORS: Record<string, string> = {
  vector: "#2457a6",
  crdt: "#2b9348",
  changelog: "#b5179e",
  types: "#e07a00",
};
const FAILED = "#d62728";
/** Latencies below this are drawn on it: the page's clock does not resolve finer (100 µs in Chromium). */
const FLOOR_MS = 0.1;
const HEIGHT = 270;
/** Reload label lanes above the plot area. */
const LANES = 3;
const LANE_HEIGHT = 15;

/** Every power of ten in [min, max]. */
function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min) + 1e-9); 10 ** e <= max * (1 + 1e-9); e++)
    if (10 ** e >= min * (1 - 1e-9)) out.push(10 ** e);
  return out;
}

function decadeLabel(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  return ms < 1 ? `${Number(ms.toPrecision(1))} ms` : `${ms} ms`;
}

interface LabelBox {
  text: string;
  x0: number;
  x1: number;
  lane: number;
}

export function setupLatencyChart(loop: LoadLoop, el: HTMLElement, legendBody: HTMLElement): () => void {
  const families = [...loop.series.keys()];
  let xRange: [number, number] = [0, loop.windowSeconds];
  let yMax = 100;
  /** Per family: the dues and latencies of the calls that succeeded; then the failed ones. */
  let dots: { color: string; xs: number[]; ys: number[] }[] = [];

  const plot = new uPlot(
    {
      width: Math.max(320, el.clientWidth || 900),
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      padding: [LANES * LANE_HEIGHT + 6, 16, 0, 0],
      scales: {
        x: { time: false, range: () => xRange },
        y: { distr: 3, log: 10, range: () => [FLOOR_MS, yMax] },
      },
      axes: [
        { label: "seconds since the page opened (when each call fell due)", labelSize: 18 },
        {
          label: "latency",
          labelSize: 18,
          size: 64,
          splits: (_u, _axis, min, max) => decades(min, max),
          values: (_u, splits) => splits.map(decadeLabel),
          grid: { stroke: "#dde2ea", width: 1 },
        },
      ],
      // The data only sets the scales; the dots are drawn by the draw hook below (uPlot's own point drawing
      // is made for a few points per series, not thousands).
      series: [{}, { label: "calls", paths: () => null, points: { show: false } }],
      hooks: {
        drawClear: [(u: uPlot) => drawBands(u, loop.reloads)],
        draw: [
          (u: uPlot) => {
            drawDots(u, dots);
            const boxes = drawLabels(u, loop.reloads);
            el.dataset.labels = JSON.stringify(boxes);
            el.dataset.yTicks = JSON.stringify(decades(FLOOR_MS, yMax).map(decadeLabel));
          },
        ],
      },
    },
    [[], []],
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: HEIGHT })).observe(el);

  const legendRows = new Map<string, HTMLTableRowElement>();
  for (const family of families) {
    const tr = document.createElement("tr");
    tr.dataset.testid = `legend-${family}`;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = FAMILY_COLORS[family] ?? "#555";
    const name = document.createElement("td");
    name.append(swatch, ` ${family}`);
    tr.append(name);
    for (const col of ["every", "calls", "p50", "p99", "max", "failed"]) {
      const td = document.createElement("td");
      td.dataset.testid = `legend-${family}-${col}`;
      tr.append(td);
    }
    legendRows.set(family, tr);
    legendBody.append(tr);
  }

  return () => {
    const now = loop.now();
    const from = Math.max(0, now - loop.windowSeconds);
    xRange = [from, Math.max(from + loop.windowSeconds, now)];
    let worst = FLOOR_MS;
    const failed: { xs: number[]; ys: number[] } = { xs: [], ys: [] };
    dots = families.map((family) => {
      const series = loop.series.get(family);
      const xs: number[] = [];
      const ys: number[] = [];
      for (const s of series?.samples ?? []) {
        if (s.due < from) continue;
        const y = Math.max(FLOOR_MS, s.ms);
        if (y > worst) worst = y;
        const into = s.ok ? { xs, ys } : failed;
        into.xs.push(s.due);
        into.ys.push(y);
      }
      return { color: FAMILY_COLORS[family] ?? "#555", xs, ys };
    });
    dots.push({ color: FAILED, ...failed });
    yMax = Math.max(100, 10 ** Math.ceil(Math.log10(worst) - 1e-9));
    plot.setData([
      [from, xRange[1]],
      [FLOOR_MS, yMax],
    ]);

    for (const family of families) {
      const series = loop.series.get(family);
      const row = legendRows.get(family);
      if (!series || !row) continue;
      const w = windowStats(series, from);
      const set = (col: string, text: string) => {
        const td = row.querySelector(`[data-testid="legend-${family}-${col}"]`);
        if (td) td.textContent = text;
      };
      set("every", `${series.everyMs} ms`);
      set("calls", w.calls.toLocaleString("en") + (series.skipped ? ` (${series.skipped} skipped)` : ""));
      set("p50", formatMs(w.p50));
      set("p99", formatMs(w.p99));
      set("max", formatMs(w.max));
      set("failed", String(w.failed));
    }
  };
}

/** 3×3 px squares (device pixels scaled), one path per colour: fast enough for thousands per frame. */
function drawDots(u: uPlot, sets: readonly { color: string; xs: number[]; ys: number[] }[]): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const size = Math.max(2, Math.round(3 * devicePixelRatio));
  const half = size / 2;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const set of sets) {
    const path = new Path2D();
    for (let i = 0; i < set.xs.length; i++) {
      const x = u.valToPos(set.xs[i] as number, "x", true);
      const y = u.valToPos(set.ys[i] as number, "y", true);
      path.rect(x - half, y - half, size, size);
    }
    ctx.fillStyle = set.color;
    ctx.fill(path);
  }
  ctx.restore();
}

function bandColor(m: ReloadMark): string {
  if (m.outcome === undefined) return "rgba(138, 75, 0, 0.14)";
  return m.outcome === "ok" ? "rgba(43, 122, 61, 0.14)" : "rgba(179, 38, 30, 0.12)";
}

/** Shaded spans from each reload's start to its end (still running: to the right edge). */
function drawBands(u: uPlot, marks: readonly ReloadMark[]): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const minWidth = Math.max(2, devicePixelRatio * 2);
  ctx.save();
  for (const m of marks) {
    const x0 = Math.max(left, u.valToPos(m.from, "x", true));
    const x1 = Math.min(left + width, m.to === undefined ? left + width : u.valToPos(m.to, "x", true));
    if (x1 < left || x0 > left + width) continue;
    ctx.fillStyle = bandColor(m);
    ctx.fillRect(x0, top, Math.max(minWidth, x1 - x0), height);
  }
  ctx.restore();
}

/**
 * A label per reload in the strip above the plot, starting where its band starts, in the first lane where it
 * overlaps no label placed before it. Newest first, so when lanes run out it is the oldest labels that go.
 * A short tick joins each label to its band. Returns the boxes drawn, in CSS pixels.
 */
function drawLabels(u: uPlot, marks: readonly ReloadMark[]): LabelBox[] {
  const ctx = u.ctx;
  const dpr = devicePixelRatio;
  const { left, top, width } = u.bbox;
  const right = left + width;
  const laneHeight = LANE_HEIGHT * dpr;
  const gap = 6 * dpr;
  const placed: { x0: number; x1: number }[][] = Array.from({ length: LANES }, () => []);
  const boxes: LabelBox[] = [];
  const todo: { text: string; x0: number; x1: number; lane: number; color: string; tickX: number }[] = [];
  ctx.save();
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left"; // uPlot leaves the context as its axes last set it
  for (const m of [...marks].sort((a, b) => b.from - a.from)) {
    const start = u.valToPos(m.from, "x", true);
    if (start > right || (m.to !== undefined && u.valToPos(m.to, "x", true) < left)) continue;
    const status = m.outcome === undefined ? "…" : m.outcome === "ok" ? " ✓" : " ✗ refused";
    const ms = m.to === undefined ? "" : ` ${formatMs((m.to - m.from) * 1000)}`;
    const text = `${m.label}${status}${ms}`;
    const w = ctx.measureText(text).width + 8 * dpr;
    const x0 = Math.max(left, Math.min(start, right - w));
    const x1 = x0 + w;
    const lane = placed.findIndex((lane) => lane.every((b) => x1 + gap <= b.x0 || b.x1 + gap <= x0));
    if (lane < 0) continue;
    (placed[lane] as { x0: number; x1: number }[]).push({ x0, x1 });
    const color = m.outcome === "refused" ? "#8f1d16" : m.outcome === "ok" ? "#1f5a2c" : "#8a4b00";
    todo.push({ text, x0, x1, lane, color, tickX: Math.max(left, Math.min(start, right)) });
  }
  // Ticks first, then the labels on white: a tick never runs through another label's text.
  for (const l of todo) {
    const y = top - (l.lane + 1) * laneHeight - 2 * dpr;
    ctx.fillStyle = l.color;
    ctx.fillRect(l.tickX - dpr / 2, y + laneHeight / 2, dpr, top - y - laneHeight / 2);
  }
  for (const l of todo) {
    // Lane 0 sits right above the plot; higher lanes stack upwards.
    const y = top - (l.lane + 1) * laneHeight - 2 * dpr;
    ctx.fillStyle = "#fff";
    ctx.fillRect(l.x0, y + dpr, l.x1 - l.x0, laneHeight - 2 * dpr);
    ctx.fillStyle = l.color;
    ctx.fillText(l.text, l.x0 + 4 * dpr, y + laneHeight / 2);
    boxes.push({ text: l.text, x0: l.x0 / dpr, x1: l.x1 / dpr, lane: l.lane });
  }
  ctx.restore();
  return boxes;
}
