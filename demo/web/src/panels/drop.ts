/**
 * Panel 6: load or reload a user's own component. A new id is loaded; an id already loaded is reloaded with
 * the usual checks. Every failure is shown as the typed error it is; nothing changes on failure.
 */
import { ErrorCode, PluginError } from "../../../../src/mod.ts";
import { $, type App, changed } from "../app.ts";
import { describeError } from "../plugins.ts";
import { showReloadOutcome } from "./upgrades.ts";

export function setupDrop(app: App): void {
  const zone = $("dropzone");
  const input = $("drop-input") as HTMLInputElement;
  const result = $("drop-result");

  async function take(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const title = `${file.name} (${bytes.byteLength.toLocaleString("en")} bytes)`;
    try {
      const handle = await app.host.load(bytes);
      result.hidden = false;
      result.className = "result ok";
      result.dataset.outcome = "loaded";
      const info = app.host.plugins().find((p) => p.id === handle.id);
      const keys = Object.entries(info?.registered ?? {})
        .filter(([, list]) => list.length)
        .map(([surface, list]) => `${surface}: ${list.join(", ")}`)
        .join("; ");
      result.textContent = `${title}: loaded ${handle.id} v${handle.version}. Registered ${keys || "nothing"}.`;
    } catch (err) {
      const loaded = err instanceof PluginError && err.code === ErrorCode.DuplicateKey && err.pluginId;
      const current = loaded ? app.host.plugins().find((p) => p.id === err.pluginId) : undefined;
      if (current) {
        // Same plugin id as one already serving: that is an upgrade (or a refused one).
        try {
          showReloadOutcome(result, `${title}: reload of ${current.id}`, await app.host.reload(current, bytes));
        } catch (reloadErr) {
          showReloadOutcome(result, `${title}: reload of ${current.id}`, reloadErr);
        }
      } else {
        result.hidden = false;
        result.className = "result refused";
        result.dataset.outcome = "rejected";
        result.textContent = `${title}: rejected.\n${describeError(err)}\nNothing changed.`;
      }
    }
    changed(app);
  }

  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) void take(file);
    input.value = "";
  });
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    const file = ev.dataTransfer?.files[0];
    if (file) void take(file);
  });
}
