/**
 * Panel 3: every row's location, drawn from the storage column the geo.point plugin produced.
 *
 * uPlot provides the axes, the scales and drag-to-zoom; the 100,000 dots are drawn by a draw hook straight
 * from the storage column's x/y arrays (small squares, one path per category — no sorting, no per-point
 * series data). The last search's hits sit on a canvas of their own over the plot, so a new search redraws a
 * handful of dots, not 100,000. The big redraw runs only when the data or the view changes — never because
 * something unrelated (a reload, a like) happened: on this page every millisecond of redraw is a millisecond
 * the query loop's calls wait.
 */
import type { Table } from "apache-arrow";
import uPlot from "uplot";
import { $, type App } from "../app.ts";
import { pointsOf } from "../arrow-tables.ts";
import { CATEGORIES } from "../dataset.ts";

const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"];
const HEIGHT = 360;

interface Points {
  x: Float64Array;
  y: Float64Array;
}

function extent(values: Float64Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function setupMap(app: App): () => void {
  const el = $("map-chart");
  const info = $("map-info");
  let points: Points | null = null;
  let hits: readonly number[] = [];

  const hitsCanvas = document.createElement("canvas");
  hitsCanvas.className = "map-hits";
  hitsCanvas.dataset.testid = "map-hits";

  function drawPoints(u: uPlot): void {
    if (!points) return;
    const { x, y } = points;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const size = Math.max(1, Math.round(2 * devicePixelRatio));
    const paths = CATEGORIES.map(() => new Path2D());
    for (let i = 0; i < x.length; i++) {
      const px = u.valToPos(x[i] as number, "x", true);
      const py = u.valToPos(y[i] as number, "y", true);
      if (px < left || px > left + width || py < top || py > top + height) continue;
      (paths[app.data.categories[i] as number] as Path2D).rect(px - size / 2, py - size / 2, size, size);
    }
    ctx.save();
    paths.forEach((path, c) => {
      ctx.fillStyle = COLORS[c] as string;
      ctx.fill(path);
    });
    ctx.restore();
  }

  function drawHits(u: uPlot): void {
    const dpr = devicePixelRatio;
    const { width, height } = u.over.getBoundingClientRect();
    if (hitsCanvas.width !== Math.round(width * dpr) || hitsCanvas.height !== Math.round(height * dpr)) {
      hitsCanvas.width = Math.round(width * dpr);
      hitsCanvas.height = Math.round(height * dpr);
      hitsCanvas.style.width = `${width}px`;
      hitsCanvas.style.height = `${height}px`;
    }
    const ctx = hitsCanvas.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, hitsCanvas.width, hitsCanvas.height);
    if (!points) return;
    ctx.fillStyle = "#111";
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = dpr;
    let drawn = 0;
    for (const row of hits) {
      if (row >= points.x.length) continue;
      const px = u.valToPos(points.x[row] as number, "x") * dpr;
      const py = u.valToPos(points.y[row] as number, "y") * dpr;
      ctx.beginPath();
      ctx.arc(px, py, 4.5 * dpr, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      drawn++;
    }
    hitsCanvas.dataset.drawn = String(drawn);
  }

  const plot = new uPlot(
    {
      width: Math.max(320, el.clientWidth || 600),
      height: HEIGHT,
      scales: { x: { time: false } },
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: true }, points: { show: false } },
      axes: [{ label: "longitude" }, { label: "latitude" }],
      // Series carry the legend and the data's extent (in the first category's data) only; the hooks draw the dots.
      series: [
        { label: "lon" },
        ...CATEGORIES.map((name, c) => ({
          label: name,
          stroke: COLORS[c] as string,
          fill: COLORS[c] as string,
          paths: () => null,
          points: { show: false },
        })),
        { label: "search hits", stroke: "#111", fill: "#111", paths: () => null, points: { show: false } },
      ],
      hooks: {
        draw: [
          (u: uPlot) => {
            drawPoints(u);
            drawHits(u);
          },
        ],
      },
    },
    [[], ...CATEGORIES.map(() => []), []] as unknown as uPlot.AlignedData,
    el,
  );
  plot.over.append(hitsCanvas);
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: HEIGHT })).observe(el);

  let drawn: Table | null = null;
  return () => {
    if (!app.locations) {
      info.textContent = app.geo
        ? `Parsing locations through the geo.point plugin… ${app.locationsParsed.toLocaleString("en")} of ${app.data.rows.toLocaleString("en")}`
        : "The geo.point plugin (types-v1.wasm) is not loaded: nothing to draw.";
      return;
    }
    if (app.locations !== drawn) {
      drawn = app.locations;
      points = pointsOf(drawn);
      const [x0, x1] = extent(points.x);
      const [y0, y1] = extent(points.y);
      const none = [null, null];
      const series = CATEGORIES.map((_, c) => (c === 0 ? [y0, y1] : none));
      plot.setData([[x0, x1], ...series, none] as unknown as uPlot.AlignedData);
      info.textContent =
        `${points.x.length.toLocaleString("en")} of ${app.data.rows.toLocaleString("en")} points, parsed from their ` +
        `literals by ${app.host.provider("logical-type", "geo.point")?.id}. Drag to zoom, double-click to reset.`;
    }
    if (app.lastHits !== hits) {
      hits = app.lastHits;
      drawHits(plot);
    }
  };
}
