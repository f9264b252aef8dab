/**
 * Panel 6: load or reload a user's own component.
 *
 * The file is first loaded into a scratch PluginHost — the same checks as a real load — to learn what it is
 * (id, version, what it provides) without touching the page's host; the scratch host is then disposed. Then:
 * a new id is loaded (and shows up in the plugin table, and its CRDT kinds in panel 7); a newer or equal
 * version of a loaded id is hot-reloaded with the usual checks; an older version is a downgrade and waits for
 * the user to confirm. Every failure is one plain sentence, with the typed error behind "Technical details";
 * nothing changes on failure.
 */
import semver from "semver";
import { type PluginInfo, PluginHost } from "../../../../src/mod.ts";
import { $, type App, changed } from "../app.ts";
import { formatBytes, loadRejected, type Outcome, showOutcome, technicalDetails } from "../messages.ts";
import { FAMILIES } from "../plugins.ts";
import { reloadAndShow } from "./upgrades.ts";

/** What the scratch host learned about a dropped file. */
async function inspect(bytes: Uint8Array): Promise<PluginInfo> {
  const scratch = new PluginHost();
  try {
    const handle = await scratch.load(bytes);
    return scratch.plugins().find((p) => p.id === handle.id) as PluginInfo;
  } finally {
    scratch.dispose();
  }
}

const NOUNS: Record<string, [string, string]> = {
  index: ["the index kind", "the index kinds"],
  cdc: ["the CDC output", "the CDC outputs"],
  crdt: ["the CRDT kind", "the CRDT kinds"],
  "logical-type": ["the logical type", "the logical types"],
};

/** "the CRDT kinds pn-counter and g-counter" */
function named(surface: string, keys: readonly string[]): string {
  const noun = NOUNS[surface]?.[keys.length > 1 ? 1 : 0] ?? surface;
  const list = keys.length > 1 ? `${keys.slice(0, -1).join(", ")} and ${keys[keys.length - 1]}` : (keys[0] ?? "");
  return `${noun} ${list}`;
}

/** What the plugin provides, in words: "the CRDT kind max-register". */
function describeProvides(info: PluginInfo): string {
  const parts = Object.entries(info.registered)
    .filter(([, keys]) => keys.length)
    .map(([surface, keys]) => named(surface, keys));
  return parts.join(" and ") || "nothing";
}

/**
 * What the dropped plugin provides that loaded plugins (other ids) already provide, grouped by who provides it:
 * "the CRDT kinds pn-counter and g-counter, which dev.uni.crdt already provides".
 */
function conflicts(app: App, dropped: PluginInfo): string[] {
  const out: string[] = [];
  for (const other of app.host.plugins()) {
    if (other.id === dropped.id) continue;
    const shared: string[] = [];
    for (const [surface, keys] of Object.entries(dropped.registered)) {
      const theirs = new Set(other.registered[surface as keyof PluginInfo["registered"]]);
      const both = keys.filter((k) => theirs.has(k));
      if (both.length) shared.push(named(surface, both));
    }
    if (shared.length) out.push(`${shared.join(" and ")}, which ${other.id} already provides`);
  }
  return out;
}

function familyKeyOf(pluginId: string): string {
  return FAMILIES.find((f) => f.pluginId === pluginId)?.key ?? pluginId;
}

export function setupDrop(app: App): void {
  const zone = $("dropzone");
  const input = $("drop-input") as HTMLInputElement;
  const result = $("drop-result");

  async function take(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const name = `${file.name} (${formatBytes(bytes.byteLength)})`;
    let dropped: PluginInfo;
    try {
      dropped = await inspect(bytes);
    } catch (err) {
      showOutcome(result, loadRejected(err, file.name, bytes));
      return;
    }
    const serving = app.host.plugins().find((p) => p.id === dropped.id);
    if (!serving) {
      await loadNew(file.name, name, bytes, dropped);
      return;
    }
    const reload = () =>
      reloadAndShow(app, result, dropped.id, bytes, {
        family: familyKeyOf(dropped.id),
        short: `${familyKeyOf(dropped.id)} v${serving.version} → v${dropped.version} (file)`,
        wanted: `${dropped.version} from ${file.name}`,
      });
    if (semver.valid(dropped.version) && semver.valid(serving.version) && semver.lt(dropped.version, serving.version)) {
      askDowngrade(file.name, dropped, serving, reload);
      return;
    }
    await reload();
  }

  async function loadNew(fileName: string, name: string, bytes: Uint8Array, dropped: PluginInfo): Promise<void> {
    const clash = conflicts(app, dropped);
    try {
      const handle = await app.host.load(bytes);
      app.droppedIds.add(handle.id);
      const kinds = dropped.registered.crdt;
      const outcome: Outcome = {
        kind: "loaded",
        headline: `Loaded ${handle.id} ${handle.version} from ${name}.`,
        lines: [
          `It provides ${describeProvides(dropped)}. It is now in the plugin table (panel 1)` +
            (kinds.length
              ? `, and its CRDT kind${kinds.length > 1 ? "s" : ""} ${kinds.join(", ")} can be used in panel 7.`
              : "."),
        ],
      };
      showOutcome(result, outcome);
      if (kinds.length) app.pickCrdtKind = kinds[0] as string;
    } catch (err) {
      const outcome = loadRejected(err, fileName, bytes);
      showOutcome(
        result,
        clash.length
          ? { ...outcome, headline: `Not loaded: ${fileName} provides ${clash.join("; and ")}. Nothing changed.` }
          : outcome,
      );
    }
    changed(app);
  }

  function askDowngrade(fileName: string, dropped: PluginInfo, serving: PluginInfo, reload: () => Promise<unknown>) {
    const box = showOutcome(result, {
      kind: "confirm-downgrade",
      headline:
        `${fileName} is ${dropped.id} ${dropped.version}, older than the ${serving.version} serving now. ` +
        `A downgrade goes through the same checks as any reload (${dropped.version} must read today's live state), ` +
        `but takes back whatever ${serving.version} added. Downgrade?`,
    });
    const row = document.createElement("p");
    row.className = "row";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "warn";
    yes.dataset.testid = "downgrade-confirm";
    yes.textContent = `Downgrade to ${dropped.version}`;
    const no = document.createElement("button");
    no.type = "button";
    no.dataset.testid = "downgrade-cancel";
    no.textContent = `Keep ${serving.version}`;
    yes.addEventListener("click", () => {
      yes.disabled = no.disabled = true;
      void reload();
    });
    no.addEventListener("click", () => {
      showOutcome(result, {
        kind: "kept",
        headline: `Not downgraded: ${serving.id} ${serving.version} keeps serving; nothing changed.`,
      });
    });
    row.append(yes, " ", no);
    box.append(row);
  }

  function takeSafely(file: File): void {
    take(file).catch((err) =>
      showOutcome(result, {
        kind: "rejected",
        headline: `${file.name} could not be read.`,
        details: technicalDetails(err),
      }),
    );
  }

  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) takeSafely(file);
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
    if (file) takeSafely(file);
  });
}
