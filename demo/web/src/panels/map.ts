/**
 * Panel 3: every row's location, drawn from the storage column the geo.point plugin produced (uPlot scatter).
 * uPlot wants ascending x, so parsed rows are sorted by longitude; each category is a series with nulls for
 * other categories' rows, and the last search's hits are one more series drawn larger.
 */
import type { Table } from "apache-arrow";
import uPlot from "uplot";
import { $, type App } from "../app.ts";
import { pointsOf } from "../arrow-tables.ts";
import { CATEGORIES } from "../dataset.ts";

const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"];

interface Layout {
  xs: Float64Array;
  perCategory: (number | null)[][];
  /** Position in `xs` of each parsed row. */
  rank: Int32Array;
  y: Float64Array;
}

function layout(app: App, storage: Table): Layout {
  const { x, y } = pointsOf(storage);
  const n = storage.numRows;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (x[a] as number) - (x[b] as number));
  const rank = new Int32Array(n);
  order.forEach((row, i) => {
    rank[row] = i;
  });
  const xs = Float64Array.from(order, (row) => x[row] as number);
  const perCategory = CATEGORIES.map((_, c) =>
    order.map((row) => (app.data.categories[row] === c ? (y[row] as number) : null)),
  );
  return { xs, perCategory, rank, y };
}

export function setupMap(app: App): () => void {
  const el = $("map-chart");
  const info = $("map-info");
  const point = (color: string, size: number) => ({ show: true, size, width: 0, fill: color, stroke: color });
  const plot = new uPlot(
    {
      width: Math.max(320, el.clientWidth || 600),
      height: 360,
      scales: { x: { time: false } },
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: true } },
      axes: [{ label: "longitude" }, { label: "latitude" }],
      series: [
        { label: "lon" },
        ...CATEGORIES.map((name, c) => ({
          label: name,
          stroke: COLORS[c] as string,
          paths: () => null,
          points: point(COLORS[c] as string, 2),
        })),
        { label: "search hits", stroke: "#111", paths: () => null, points: point("#111", 9) },
      ],
    },
    [[], ...CATEGORIES.map(() => []), []] as unknown as uPlot.AlignedData,
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 360 })).observe(el);

  let drawn: Table | null = null;
  let current: Layout | null = null;
  return () => {
    if (!app.locations) {
      info.textContent = app.geo
        ? "Parsing locations through the geo.point plugin…"
        : "The geo.point plugin (types-v1.wasm) is not loaded: nothing to draw.";
      return;
    }
    if (app.locations !== drawn) {
      drawn = app.locations;
      current = layout(app, drawn);
    }
    if (!current) return;
    const { xs, perCategory, rank, y } = current;
    const hits: (number | null)[] = new Array(xs.length).fill(null);
    for (const row of app.lastHits) if (row < xs.length) hits[rank[row] as number] = y[row] as number;
    plot.setData([xs, ...perCategory, hits] as unknown as uPlot.AlignedData);
    const done = xs.length === app.data.rows;
    info.textContent =
      `${xs.length.toLocaleString("en")} of ${app.data.rows.toLocaleString("en")} points parsed by ` +
      `${app.host.provider("logical-type", "geo.point")?.id} from their literals` +
      (done ? ". Drag to zoom, double-click to reset." : ", more arriving…");
  };
}
