/**
 * What the demo tells people about loads, reloads and refusals: one plain sentence first (what happened, what
 * it means, what still runs), and the typed error — class, code, reload step, the host's message — behind a
 * "Technical details" disclosure for whoever wants it.
 */
import { ErrorCode, ManifestError, PluginError, ReloadError, type ReloadReport } from "../../../src/mod.ts";

export interface Outcome {
  /** `data-outcome` of the box: "ok", "loaded", "refused", "rejected", "confirm-downgrade", "kept". */
  readonly kind: string;
  readonly headline: string;
  readonly lines?: readonly string[];
  /** Label → value rows shown under "Technical details". */
  readonly details?: readonly [string, string][];
  /** The reload step that refused, for `data-step`. */
  readonly step?: string;
}

/** Renders an outcome into a result box (replacing what it showed), and returns the box's body for extras. */
export function showOutcome(target: HTMLElement, outcome: Outcome): HTMLElement {
  target.hidden = false;
  target.className = `result ${outcome.kind === "ok" || outcome.kind === "loaded" ? "ok" : outcome.kind === "kept" ? "" : "refused"}`;
  target.dataset.outcome = outcome.kind;
  if (outcome.step) target.dataset.step = outcome.step;
  else delete target.dataset.step;
  const headline = document.createElement("p");
  headline.className = "headline";
  headline.dataset.testid = `${target.dataset.testid ?? "result"}-headline`;
  headline.textContent = outcome.headline;
  const parts: HTMLElement[] = [headline];
  for (const line of outcome.lines ?? []) {
    const p = document.createElement("p");
    p.textContent = line;
    parts.push(p);
  }
  if (outcome.details?.length) {
    const details = document.createElement("details");
    details.dataset.testid = `${target.dataset.testid ?? "result"}-details`;
    const summary = document.createElement("summary");
    summary.textContent = "Technical details";
    const dl = document.createElement("dl");
    for (const [label, value] of outcome.details) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dl.append(dt, dd);
    }
    details.append(summary, dl);
    parts.push(details);
  }
  target.replaceChildren(...parts);
  return target;
}

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

function hex(code: number): string {
  return `0x${code.toString(16)}`;
}

/** The typed error as rows: class, code (hex and name), retryable, plugin, reload step, the host's message. */
export function technicalDetails(err: unknown): [string, string][] {
  if (!(err instanceof PluginError)) {
    return [["error", err instanceof Error ? `${err.name}: ${err.message}` : String(err)]];
  }
  const name = CODE_NAMES.get(err.code);
  const rows: [string, string][] = [
    ["error", err.name],
    ["code", `${hex(err.code)}${name ? ` (${name})` : ""}`],
    ["retryable", err.retryable ? "yes" : "no"],
  ];
  if (err.pluginId) rows.push(["plugin", err.pluginId]);
  if (err instanceof ManifestError && err.field) rows.push(["manifest field", err.field]);
  if (err instanceof ReloadError) {
    rows.push(["reload step", err.step]);
    const report = err.report as ReloadReport | undefined;
    if (report?.reason) rows.push(["reason", report.reason]);
    if (report?.steps.length) rows.push(["steps", stepsLine(report)]);
  } else rows.push(["message", err.message]);
  const cause = err.cause instanceof PluginError ? err.cause : undefined;
  if (cause && !(err instanceof ReloadError))
    rows.push(["cause", `${cause.name} ${hex(cause.code)}: ${cause.message}`]);
  return rows;
}

export function stepsLine(report: ReloadReport): string {
  return report.steps.map((s) => `${s.step} ${s.ms.toFixed(1)} ms${s.ok ? "" : " ✗"}`).join(" → ");
}

/** 512 bytes, 3.4 KiB, 25.2 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a successful reload handed over, in words: resources by surface, and the persisted bytes moved. */
export function handedOver(report: ReloadReport): string {
  const m = report.moved;
  const what: string[] = [];
  if (m.indexes) what.push(plural(m.indexes, "index", "indexes"));
  if (m.crdtStates) what.push(plural(m.crdtStates, "CRDT state", "CRDT states"));
  if (m.cdcStreams)
    what.push(
      plural(m.cdcStreams, "CDC stream (resumed at its checkpoint)", "CDC streams (each resumed at its checkpoint)"),
    );
  if (!what.length) {
    return "Nothing to hand over: this plugin keeps no live state here. The new version was checked against the values seen so far instead.";
  }
  const bytes = m.bytes ? `; ${formatBytes(m.bytes)} of persisted state moved into the new version` : "";
  return `Handed over: ${what.join(", ")}${bytes}.`;
}

/** The headline for a successful reload. */
export function reloadSucceeded(report: ReloadReport, from: string): Outcome {
  const to = report.to;
  return {
    kind: "ok",
    headline: `${report.pluginId} now serves ${to?.version} (was ${from}), taken over in ${formatMsShort(report.totalMs)}.`,
    lines: [handedOver(report)],
    details: [
      ["generation", `${report.from.generation} → ${to?.generation}`],
      ["steps", stepsLine(report)],
    ],
  };
}

function formatMsShort(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Why a reload was refused, for someone who reads the data, not the code. */
export function reloadRefused(err: unknown, pluginId: string, serving: string, wanted: string): Outcome {
  const kept = `${pluginId} ${serving} keeps serving; nothing changed.`;
  if (!(err instanceof ReloadError)) {
    return {
      kind: "refused",
      headline: `${wanted} could not be installed. ${kept}`,
      details: technicalDetails(err),
    };
  }
  const reason = ((err.report as ReloadReport | undefined)?.reason ?? err.message).toLowerCase();
  let why: string;
  switch (err.step) {
    case "check-compat":
      if (reason.startsWith("index")) why = `${wanted} cannot read the live index in the format ${serving} stored it`;
      else if (reason.startsWith("crdt")) why = `${wanted} cannot read the live CRDT states as ${serving} stored them`;
      else if (reason.includes("encoding version") || reason.includes("storage type")) {
        why = `${wanted} would store values of a logical type differently, so values stored today would be read wrongly`;
      } else if (reason.includes("displays as")) why = `${wanted} shows some values differently than ${serving}`;
      else why = `${wanted} is not compatible with the live state`;
      break;
    case "check-manifest":
      if (reason.includes(" drops ")) why = `${wanted} no longer provides something live data uses`;
      else if (reason.includes(", not ")) why = "the file is a different plugin, not a version of this one";
      else why = `${wanted} provides something another loaded plugin already provides`;
      break;
    case "instantiate":
      why = "the file is not a loadable plugin component";
      break;
    case "quiesce":
      why = "calls in flight did not finish in time (try again)";
      break;
    case "validate":
      why = "another upgrade of this plugin is still running";
      break;
    default:
      why = `handing the live state over failed at the ${err.step} step`;
  }
  return {
    kind: "refused",
    step: err.step,
    headline: `Not upgraded: ${why}. ${kept}`,
    details: technicalDetails(err),
  };
}

/** What kind of file the bytes are, from their header (the host's message says it in its own terms). */
function fileKind(bytes: Uint8Array): "not-wasm" | "core-module" | "component" {
  const wasm = bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!wasm) return "not-wasm";
  return bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0 ? "core-module" : "component";
}

/** Why a dropped file was not loaded. */
export function loadRejected(err: unknown, fileName: string, bytes: Uint8Array): Outcome {
  const code = err instanceof PluginError ? err.code : -1;
  let why: string;
  switch (code) {
    case ErrorCode.InvalidComponent: {
      const kind = fileKind(bytes);
      why =
        kind === "not-wasm"
          ? `${fileName} is not a WebAssembly file, so it cannot be a plugin`
          : kind === "core-module"
            ? `${fileName} is a plain WebAssembly module, not a component: plugins are WebAssembly components (see plugins-wasm/README.md)`
            : `${fileName} is a damaged or unsupported WebAssembly component`;
      break;
    }
    case ErrorCode.WrongWorld:
      why = `${fileName} is a WebAssembly component, but not a uni:plugin one`;
      break;
    case ErrorCode.InvalidManifest:
      why = `${fileName} describes itself wrongly (its manifest is invalid)`;
      break;
    case ErrorCode.AbiUnsupported:
      why = `${fileName} was built for a plugin interface version this page does not support`;
      break;
    case ErrorCode.CapabilityDenied:
      why = `${fileName} asks for a permission this page does not grant`;
      break;
    case ErrorCode.DuplicateKey:
      why = `${fileName} provides something another loaded plugin already provides`;
      break;
    case ErrorCode.Trap:
      why = `${fileName} crashed while starting`;
      break;
    default:
      why = `${fileName} could not be loaded`;
  }
  return { kind: "rejected", headline: `Not loaded: ${why}. Nothing changed.`, details: technicalDetails(err) };
}
