/**
 * Panel 5: ingest rows as change batches and watch what reaches the changelog sink, LSN by LSN.
 *
 * The query loop publishes a one-row batch every 100 ms, so the sink's log is mostly those. The table folds
 * each run of consecutive loop-only batches into one line ("37 batches of 1 row from the query loop") and gives
 * every batch holding one of your ingests its own highlighted line, so a 1,000-row ingest stays in view.
 */
import { type CdcEmit, fromIPC } from "../../../../src/mod.ts";
import { $, type App, cell } from "../app.ts";
import { changeBatch } from "../arrow-tables.ts";
import { CATEGORIES } from "../dataset.ts";
import { showOutcome, technicalDetails } from "../messages.ts";

/** Lines in the table at most. */
const LINES = 10;

interface Ingest {
  n: number;
  lsnStart: bigint;
  lsnEnd: bigint;
}

/** Rows of a changelog payload (the output hands the mutations on unchanged, as Arrow IPC). */
function rowsIn(payload: Uint8Array): number {
  try {
    return fromIPC(payload).numRows;
  } catch {
    return Number.NaN;
  }
}

interface Line {
  lsnStart: bigint;
  lsnEnd: bigint;
  batches: number;
  rows: number;
  emittedBy: Set<string>;
  ingests: number[];
}

export function setupCdc(app: App): () => void {
  const ingest = $("cdc-ingest") as HTMLButtonElement;
  const flush = $("cdc-flush") as HTMLButtonElement;
  const result = $("cdc-result");
  const cdc = app.cdc;
  if (!cdc) {
    ingest.disabled = true;
    flush.disabled = true;
    $("cdc-rows").replaceChildren(cell("The changelog plugin (changelog-v1.wasm) is not built yet."));
    return () => {};
  }
  let nextId = BigInt(app.data.rows);
  const ingests: Ingest[] = [];
  const rowCounts = new WeakMap<CdcEmit, number>();

  ingest.addEventListener("click", async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      id: nextId + BigInt(i),
      category: CATEGORIES[i % CATEGORIES.length] as string,
      location: app.data.literals[i] as string,
      likes: 0,
    }));
    nextId += 1000n;
    try {
      const { lsnStart, lsnEnd } = await cdc.publish(changeBatch(batch));
      ingests.push({ n: ingests.length + 1, lsnStart, lsnEnd });
      result.hidden = true;
    } catch (err) {
      showOutcome(result, {
        kind: "refused",
        headline: "The ingest was not accepted.",
        details: technicalDetails(err),
      });
    }
    redraw();
  });
  flush.addEventListener("click", async () => {
    try {
      await cdc.checkpoint();
      result.hidden = true;
    } catch (err) {
      showOutcome(result, { kind: "refused", headline: "The checkpoint failed.", details: technicalDetails(err) });
    }
    redraw();
  });

  function ingestsIn(e: CdcEmit): number[] {
    return ingests.filter((i) => i.lsnStart < e.lsnEnd && e.lsnStart < i.lsnEnd).map((i) => i.n);
  }

  /** Newest first: loop-only batches folded into runs, batches with an ingest on their own line. */
  function lines(): Line[] {
    const out: Line[] = [];
    for (const e of app.audit.recent) {
      let rows = rowCounts.get(e);
      if (rows === undefined) {
        rows = rowsIn(e.payload);
        rowCounts.set(e, rows);
      }
      const mine = ingestsIn(e);
      const last = out[out.length - 1];
      const by = `${e.pluginId} v${e.version}`;
      if (!mine.length && last && !last.ingests.length && last.lsnStart === e.lsnEnd) {
        last.lsnStart = e.lsnStart;
        last.batches++;
        last.rows += rows;
        last.emittedBy.add(by);
        continue;
      }
      if (out.length === LINES) break;
      out.push({ lsnStart: e.lsnStart, lsnEnd: e.lsnEnd, batches: 1, rows, emittedBy: new Set([by]), ingests: mine });
    }
    return out;
  }

  function redraw(): void {
    const audit = app.audit;
    $("cdc-next").textContent = String(cdc?.nextLsn);
    $("cdc-emitted").textContent = String(cdc?.emittedEnd);
    $("cdc-buffered").textContent = String((cdc?.nextLsn ?? 0n) - (cdc?.emittedEnd ?? 0n));
    $("cdc-checkpoint").textContent = String(cdc?.checkpointed);
    $("cdc-batches").textContent = String(audit.batches);
    $("cdc-gaps").textContent = String(audit.gapLsns);
    $("cdc-dups").textContent = String(audit.duplicateLsns);
    const delivered = ingests.filter((i) => (cdc?.emittedEnd ?? 0n) >= i.lsnEnd).length;
    $("cdc-ingests").textContent = `${ingests.length} (${delivered} in the sink)`;
    $("cdc-rows").replaceChildren(
      ...lines().map((line) => {
        const tr = document.createElement("tr");
        const what = line.ingests.length
          ? `your ingest #${line.ingests.join(", #")}: ${line.rows.toLocaleString("en")} rows`
          : line.batches === 1
            ? `${line.rows} row${line.rows === 1 ? "" : "s"} from the query loop`
            : `${line.batches} batches from the query loop, ${line.rows.toLocaleString("en")} rows in all`;
        if (line.ingests.length) {
          tr.className = "ingest";
          tr.dataset.testid = "cdc-ingest-row";
        }
        tr.append(cell(`[${line.lsnStart}, ${line.lsnEnd})`), cell(what), cell([...line.emittedBy].join(", ")));
        return tr;
      }),
    );
  }
  return redraw;
}
