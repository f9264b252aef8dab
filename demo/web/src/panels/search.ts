/** Panel 2: k-nearest-neighbour search through the vector.flat plugin, locations shown through geo.point. */
import { $, type App, cell, changed } from "../app.ts";
import { queryTable } from "../arrow-tables.ts";
import { CATEGORIES, centroidOf, embeddingOf } from "../dataset.ts";
import { describeError } from "../plugins.ts";

export interface SearchHit {
  row: number;
  distance: number;
}

/** Probes the live index with one query vector; rows come back as ids (= row numbers in this dataset). */
export async function nearest(app: App, query: Float32Array, k: number): Promise<SearchHit[]> {
  const result = await app.index.probe(queryTable(query, app.data.dim), k);
  const ids = result.getChild("id")?.toArray() as BigInt64Array;
  const distances = result.getChild("distance")?.toArray() as Float32Array;
  return Array.from(ids, (id, i) => ({ row: Number(id), distance: distances[i] as number }));
}

/** Display strings for some rows' locations: literal → storage → display, both steps inside the geo.point plugin. */
export async function locationLabels(app: App, rows: number[]): Promise<string[]> {
  const literals = rows.map((r) => app.data.literals[r] as string);
  if (!app.geo) return literals.map((l) => `${l} (raw: types plugin not loaded)`);
  const storage = await app.geo.fromLiteral(literals);
  return (await app.geo.toDisplay(storage)).map((s) => s ?? "null");
}

export function setupSearch(app: App, onSelect: (row: number) => void): void {
  const select = $("search-category") as HTMLSelectElement;
  select.append(new Option("— any —", ""));
  CATEGORIES.forEach((name, i) => {
    select.append(new Option(name, String(i)));
  });
  const rowInput = $("search-row") as HTMLInputElement;
  rowInput.max = String(app.data.rows - 1);
  rowInput.addEventListener("input", () => {
    select.value = "";
  });
  select.addEventListener("change", () => {
    if (select.value !== "") rowInput.value = "";
  });

  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run();
  });

  async function run(): Promise<void> {
    const info = $("search-info");
    const body = $("search-rows");
    const k = Math.min(100, Math.max(1, Number(($("search-k") as HTMLInputElement).value) || 10));
    let query: Float32Array;
    let what: string;
    if (select.value !== "") {
      const c = Number(select.value);
      query = centroidOf(app.data, c);
      what = `the centre of category "${CATEGORIES[c]}"`;
    } else {
      const row = Number(rowInput.value);
      if (!Number.isInteger(row) || row < 0 || row >= app.data.rows) {
        info.textContent = `Row id must be a whole number from 0 to ${app.data.rows - 1}.`;
        return;
      }
      query = embeddingOf(app.data, row);
      what = `row ${row} (category "${CATEGORIES[app.data.categories[row] as number]}")`;
    }
    try {
      const t0 = performance.now();
      const hits = await nearest(app, query, k);
      const ms = performance.now() - t0;
      const labels = await locationLabels(
        app,
        hits.map((h) => h.row),
      );
      body.replaceChildren(
        ...hits.map((hit, i) => {
          const tr = document.createElement("tr");
          tr.className = "clickable";
          tr.dataset.row = String(hit.row);
          tr.append(
            cell(String(i + 1)),
            cell(String(hit.row)),
            cell(CATEGORIES[app.data.categories[hit.row] as number] ?? "?"),
            cell(labels[i] ?? ""),
            cell(hit.distance.toFixed(4)),
          );
          tr.addEventListener("click", () => {
            for (const other of body.querySelectorAll("tr.selected")) other.classList.remove("selected");
            tr.classList.add("selected");
            onSelect(hit.row);
          });
          return tr;
        }),
      );
      const served = app.index.servedBy;
      info.textContent = `${hits.length} nearest to ${what} in ${ms.toFixed(1)} ms, served by ${served.id} v${served.version}.`;
      app.lastHits = hits.map((h) => h.row);
      changed(app);
    } catch (err) {
      info.textContent = `Search failed: ${describeError(err)}`;
    }
  }
  void run();
}
