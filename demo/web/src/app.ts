/** What every panel shares: the host, the dataset, and the live resources built on the plugins. */
import type { Table } from "apache-arrow";
import type { LiveCdc, LiveIndex, LogicalType, PluginHost } from "../../../src/mod.ts";
import type { Dataset } from "./dataset.ts";
import type { LoadLoop } from "./load-loop.ts";
import type { LsnAudit } from "./lsn-audit.ts";

export interface App {
  readonly host: PluginHost;
  readonly data: Dataset;
  readonly index: LiveIndex;
  /** Null when the changelog component is not built yet. */
  readonly cdc: LiveCdc | null;
  readonly audit: LsnAudit;
  /** Null when the types component is not built yet. */
  readonly geo: LogicalType | null;
  /**
   * The geo.point storage column the plugin produced from all the rows' literals, once it has parsed them all
   * (in the background after setup). Null until then, and without the plugin.
   */
  locations: Table | null;
  /** Rows parsed so far (the map shows the whole column once parsing is done). */
  locationsParsed: number;
  readonly loop: LoadLoop;
  /** Plugin ids loaded from files dropped on panel 6. */
  readonly droppedIds: Set<string>;
  /** A CRDT kind panel 7 should select at its next redraw (set when a dropped plugin brings one). */
  pickCrdtKind: string | null;
  /** Rows of the last search, highlighted on the map. */
  lastHits: number[];
  /** Panels redraw through these after something changed. */
  readonly onChange: Set<() => void>;
}

export function changed(app: App): void {
  for (const fn of app.onChange) fn();
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

export function cell(text: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}
