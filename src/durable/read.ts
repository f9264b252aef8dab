/**
 * Reads back everything a host wrote (see records.ts), record by record: what reads back is returned, what does
 * not (a failed checksum, a record that is not what its key says) is returned as a problem for the restore to
 * quarantine — one damaged record never stops the rest from restoring.
 *
 * @module
 */
import { type PluginError, toPluginError } from "../errors.ts";
import type { Key, StateStore } from "../store/types.ts";
import {
  type CdcLogRecord,
  type Keys,
  type PluginRecord,
  type ResourceRecord,
  readCdcEntry,
  readPlugin,
  readResource,
  readSamples,
} from "./records.ts";

/** A record that did not read back. */
export interface Problem {
  key: Key;
  /** The raw value, when the store could return it (a failed checksum returns none). */
  value?: Uint8Array;
  error: PluginError;
}

export interface RestoredState {
  plugins: { key: Key; value: Uint8Array; record: PluginRecord }[];
  resources: { key: Key; value: Uint8Array; record: ResourceRecord }[];
  /** Generation counters by plugin id. */
  generations: Map<string, number>;
  /** Logical-type samples by type name. */
  samples: Map<string, string[]>;
  /** CDC log entries per stream name, in LSN order. */
  cdcLogs: Map<string, { key: Key; record: CdcLogRecord }[]>;
  problems: Problem[];
}

async function each(
  store: StateStore,
  prefix: Key,
  problems: Problem[],
  fn: (key: Key, value: Uint8Array) => void,
): Promise<void> {
  const corrupt: { key: Key; error: Error }[] = [];
  for await (const e of store.list({ prefix }, { onCorrupt: (key, error) => corrupt.push({ key, error }) })) {
    try {
      fn(e.key, e.value);
    } catch (err) {
      problems.push({ key: e.key, value: e.value, error: toPluginError(err) });
    }
  }
  for (const c of corrupt) problems.push({ key: c.key, error: toPluginError(c.error) });
}

export async function readAll(store: StateStore, keys: Keys): Promise<RestoredState> {
  const out: RestoredState = {
    plugins: [],
    resources: [],
    generations: new Map(),
    samples: new Map(),
    cdcLogs: new Map(),
    problems: [],
  };
  await each(store, keys.plugins(), out.problems, (key, value) => {
    const record = readPlugin(key, value);
    if (key[3] !== record.id) throw new Error(`the record under ${String(key[3])} names plugin ${record.id}`);
    out.plugins.push({ key, value, record });
  });
  await each(store, keys.generations(), out.problems, (key, value) => {
    if (value.length !== 8) throw new Error(`a generation counter of ${value.length} bytes`);
    out.generations.set(String(key[3]), Number(new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true)));
  });
  await each(store, keys.resources(), out.problems, (key, value) => {
    const record = readResource(key, value);
    if (key[3] !== record.surface || key[4] !== record.name) {
      throw new Error(`the record under ${String(key[3])}/${String(key[4])} is ${record.surface} "${record.name}"`);
    }
    out.resources.push({ key, value, record });
  });
  await each(store, keys.samples(), out.problems, (key, value) => {
    out.samples.set(String(key[3]), readSamples(key, value));
  });
  for (const r of out.resources) {
    if (r.record.surface !== "cdc") continue;
    const entries: { key: Key; record: CdcLogRecord }[] = [];
    await each(store, keys.cdcLog(r.record.name), out.problems, (key, value) => {
      const record = readCdcEntry(key, value);
      if (key[4] !== record.lsnStart)
        throw new Error(`the entry under LSN ${String(key[4])} starts at ${record.lsnStart}`);
      entries.push({ key, record });
    });
    out.cdcLogs.set(r.record.name, entries);
  }
  return out;
}
