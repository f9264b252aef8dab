/**
 * The edge server's own records, beside the host's in the same store (`["edge", …]`; the host keeps to
 * `["uni", …]`): whether the first-start preload ran, and the notes of records a restart set aside.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { PluginHost } from "../../src/mod.ts";
import type { Key, StateStore } from "../../src/store/mod.ts";

const encoder = new Encoder();
const decoder = new Decoder();
const PRELOADED: Key = ["edge", "preloaded"];
const NOTES: Key = ["edge", "quarantine"];

type RestoreReport = Awaited<PluginHost["restored"]>;

/** A record a restart could not restore, as `GET /health` and `GET /quarantine` report it. */
export interface QuarantineNote {
  /** The record's key in the host's store. */
  record: string[];
  /** What it was: `plugin dev.uni.crdt`, `index "docs"`, … */
  what: string;
  reason: string;
  /** What to do about it, in HTTP routes. */
  action: string;
  /** When the restart that set it aside ran (ISO 8601). */
  at: string;
}

/** True once the first start loaded its `--preload` components (so deleting every plugin does not bring them back). */
export async function preloaded(store: StateStore): Promise<boolean> {
  try {
    return (await store.get(PRELOADED)) !== null;
  } catch {
    return true; // damaged, so it was written: the preload ran
  }
}

export async function markPreloaded(store: StateStore): Promise<void> {
  await store.commit({ mutations: [{ type: "set", key: PRELOADED, value: encoder.encode({ at: Date.now() }) }] });
}

/** Keeps what a restore set aside, so it is reported until someone acts on it (`DELETE /quarantine`). */
export async function noteQuarantined(store: StateStore, report: RestoreReport): Promise<void> {
  if (report.quarantined.length === 0) return;
  const at = new Date().toISOString();
  const stamp = Date.now();
  await store.commit({
    mutations: report.quarantined.map((q, i) => ({
      type: "set" as const,
      key: [...NOTES, stamp, i],
      value: encoder.encode(note(q.key, q.reason, at)),
    })),
  });
}

function note(record: string[], reason: string, at: string): QuarantineNote {
  const { what, action } = describe(record);
  return { record, what, reason, action, at };
}

export async function quarantineNotes(store: StateStore): Promise<QuarantineNote[]> {
  const out: QuarantineNote[] = [];
  const damaged = (key: Key, error: Error) =>
    out.push({
      record: key.map(String),
      what: "a quarantine note of this server",
      reason: error.message,
      action: "DELETE /quarantine clears it with the others",
      at: new Date().toISOString(),
    });
  for await (const e of store.list({ prefix: NOTES }, { onCorrupt: damaged })) {
    out.push(decoder.decode(e.value) as QuarantineNote);
  }
  return out;
}

/** Forgets every note (the operator has acted on them); the host's set-aside copies stay in the store. */
export async function clearQuarantineNotes(store: StateStore): Promise<number> {
  const keys: Key[] = [];
  for await (const e of store.list({ prefix: NOTES }, { onCorrupt: (key) => keys.push(key) })) keys.push(e.key);
  for (let i = 0; i < keys.length; i += 500) {
    await store.commit({ mutations: keys.slice(i, i + 500).map((key) => ({ type: "delete" as const, key })) });
  }
  return keys.length;
}

/**
 * What a host record is and what to do about losing it. Keys follow src/durable/records.ts:
 * `["uni", namespace, "plugin", id]`, `["uni", namespace, "res", surface, name]`, `["uni", namespace, "journal" |
 * "cdc-log", name, …]`, `["uni", namespace, "samples", type]`, `["uni", namespace, "gen", id]`.
 */
export function describe(key: string[]): { what: string; action: string } {
  const [, , kind, a, b] = key;
  if (kind === "plugin") {
    return {
      what: `plugin ${a}`,
      action: `upload the component again: POST /plugins (its indexes, CRDT states and CDC streams were set aside too if nothing else provides their kinds; see the other notes)`,
    };
  }
  if (kind === "res" && a === "index") {
    return { what: `index "${b}"`, action: `rebuild it: POST /indexes/${b} with its rows` };
  }
  if (kind === "res" && a === "crdt") {
    return {
      what: `CRDT state "${b}"`,
      action: `create it again: POST /crdts/${b} (its value is lost; merge it from a replica)`,
    };
  }
  if (kind === "res" && a === "cdc") {
    return {
      what: `CDC stream "${b}"`,
      action: `create it again: POST /cdc/${b}; it continues after the last LSN its sink log holds (GET /cdc/${b} then shows it)`,
    };
  }
  if (kind === "journal") {
    return {
      what: `an op journal entry of CRDT state "${a}"`,
      action: `check GET /crdts/${a}: that op is not in its value`,
    };
  }
  if (kind === "cdc-log") {
    return {
      what: `a logged batch of CDC stream "${a}"`,
      action: `check GET /cdc/${a}: the rows of that batch that its sink had not received are lost; publish them again`,
    };
  }
  if (kind === "samples") {
    return {
      what: `the samples of logical type ${a}`,
      action: "nothing: reloads check new versions on fewer literals",
    };
  }
  if (kind === "gen") {
    return {
      what: `the generation counter of plugin ${a}`,
      action: "nothing: generations continue from the plugin record",
    };
  }
  return { what: key.join("/"), action: "inspect the store; the rest serves" };
}
