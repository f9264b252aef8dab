/** Panel 5: ingest rows as change batches and watch what reaches the changelog sink, LSN by LSN. */
import { fromIPC } from "../../../../src/mod.ts";
import { $, type App, cell } from "../app.ts";
import { changeBatch } from "../arrow-tables.ts";
import { CATEGORIES } from "../dataset.ts";
import { describeError } from "../plugins.ts";

/** Rows of a changelog payload (the output hands the mutations on unchanged, as Arrow IPC). */
function rowsIn(payload: Uint8Array): string {
  try {
    return String(fromIPC(payload).numRows);
  } catch {
    return `${payload.byteLength} bytes`;
  }
}

export function setupCdc(app: App): () => void {
  const ingest = $("cdc-ingest") as HTMLButtonElement;
  const flush = $("cdc-flush") as HTMLButtonElement;
  const cdc = app.cdc;
  if (!cdc) {
    ingest.disabled = true;
    flush.disabled = true;
    $("cdc-rows").replaceChildren(cell("The changelog plugin (changelog-v1.wasm) is not built yet."));
    return () => {};
  }
  let nextId = BigInt(app.data.rows);
  const rows = new Map<string, string>();

  ingest.addEventListener("click", async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      id: nextId + BigInt(i),
      category: CATEGORIES[i % CATEGORIES.length] as string,
      location: app.data.literals[i] as string,
      likes: 0,
    }));
    nextId += 1000n;
    try {
      await cdc.publish(changeBatch(batch));
    } catch (err) {
      $("last-error").textContent = `ingest: ${describeError(err)}`;
    }
    redraw();
  });
  flush.addEventListener("click", async () => {
    try {
      await cdc.checkpoint();
    } catch (err) {
      $("last-error").textContent = `checkpoint: ${describeError(err)}`;
    }
    redraw();
  });

  function redraw(): void {
    const audit = app.audit;
    $("cdc-next").textContent = String(cdc?.nextLsn);
    $("cdc-emitted").textContent = String(cdc?.emittedEnd);
    $("cdc-buffered").textContent = String((cdc?.nextLsn ?? 0n) - (cdc?.emittedEnd ?? 0n));
    $("cdc-checkpoint").textContent = String(cdc?.checkpointed);
    $("cdc-batches").textContent = String(audit.batches);
    $("cdc-gaps").textContent = String(audit.gapLsns);
    $("cdc-dups").textContent = String(audit.duplicateLsns);
    $("cdc-rows").replaceChildren(
      ...audit.recent.map((e) => {
        const key = `${e.lsnStart}`;
        if (!rows.has(key)) rows.set(key, rowsIn(e.payload));
        const tr = document.createElement("tr");
        tr.append(cell(`[${e.lsnStart}, ${e.lsnEnd})`), cell(rows.get(key) ?? ""), cell(`${e.pluginId} v${e.version}`));
        return tr;
      }),
    );
    if (rows.size > 200) rows.clear();
  }
  return redraw;
}
