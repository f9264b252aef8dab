/**
 * Bringing a host back from its store: plugins first (the serving version of each id, at its generation), then
 * every live resource through whichever plugin now provides its kind, then the logical-type samples. A record
 * that fails — damaged, naming a kind no plugin provides any more, bytes a plugin refuses — is quarantined with
 * the reason, and the rest restores and serves: one bad record never keeps a host from starting.
 *
 * @module
 */
import type { CdcStreamState } from "../resources/cdc-state.ts";
import { toPluginError } from "../errors.ts";
import type { Key } from "../store/types.ts";
import type { HostDurability } from "./durability.ts";
import {
  type CrdtJournalEntry,
  type PluginRecord,
  type ResourceRecord,
  type SnapshotRef,
  readJournalRecord,
} from "./records.ts";

/** What a restore did. */
export interface RestoreReport {
  /** The versions serving again, with their generations. */
  plugins: { id: string; version: string; generation: number }[];
  /** The live resources back. */
  resources: { surface: string; name: string }[];
  /** Records set aside, and why. They stay in the store under the quarantine prefix. */
  quarantined: { key: string[]; reason: string }[];
  ms: number;
}

/** What the restore may do to the host (implemented by PluginHost). */
export interface RestoreTarget {
  /** Vets `bytes` and makes it the serving version of its id at `record.generation`. */
  install(record: PluginRecord, bytes: Uint8Array): Promise<void>;
  /** Raises the generation counter of `id` to at least `generation`. */
  generationAtLeast(id: string, generation: number): void;
  /** The literals a logical type has seen. */
  samples(type: string, literals: readonly string[]): void;
  restoreIndex(record: ResourceRecord, snapshot: Uint8Array): Promise<void>;
  /** A CRDT state from its snapshot, its journal replayed, its log continuing at `epoch`. */
  restoreCrdt(record: ResourceRecord, snapshot: Uint8Array, journal: CrdtJournalEntry[], epoch: number): Promise<void>;
  /** A CDC stream from its state, its log continuing with the entries already stored. */
  restoreCdc(record: ResourceRecord, state: CdcStreamState, stored: { start: bigint; end: bigint }[]): Promise<void>;
}

export async function restore(d: HostDurability, target: RestoreTarget): Promise<RestoreReport> {
  const t0 = performance.now();
  const report: RestoreReport = { plugins: [], resources: [], quarantined: [], ms: 0 };
  const quarantine = async (key: Key, value: Uint8Array | undefined, reason: string) => {
    report.quarantined.push({ key: key.map(String), reason });
    try {
      await d.quarantine(key, value, reason);
    } catch (err) {
      report.quarantined.push({
        key: key.map(String),
        reason: `could not be set aside: ${toPluginError(err).message}`,
      });
    }
  };
  const state = await d.readAll();
  for (const p of state.problems) await quarantine(p.key, p.value, p.error.message);
  for (const [id, g] of state.generations) target.generationAtLeast(id, g);

  for (const { key, value, record } of state.plugins) {
    try {
      target.generationAtLeast(record.id, record.generation);
      await target.install(record, await d.store.getBlob(record.component));
      report.plugins.push({ id: record.id, version: record.version, generation: record.generation });
    } catch (err) {
      await quarantine(
        key,
        value,
        `plugin ${record.id} ${record.version} did not restore: ${toPluginError(err).message}`,
      );
    }
  }
  for (const [type, literals] of state.samples) target.samples(type, literals);

  for (const { key, value, record } of state.resources) {
    try {
      if (record.surface === "index") {
        await target.restoreIndex(record, await bytesOf(d, record.snapshot as SnapshotRef));
      } else if (record.surface === "crdt") {
        const { entries, epoch } = await journalOf(d, record);
        await target.restoreCrdt(record, await bytesOf(d, record.snapshot as SnapshotRef), entries, epoch);
      } else {
        const logged = state.cdcLogs.get(record.name) ?? [];
        const cdcState = await cdcStateOf(
          d,
          record,
          logged.map((e) => e.record),
        );
        await target.restoreCdc(
          record,
          cdcState,
          logged.map((e) => ({ start: e.record.lsnStart, end: e.record.lsnEnd })),
        );
      }
      report.resources.push({ surface: record.surface, name: record.name });
    } catch (err) {
      await quarantine(
        key,
        value,
        `${record.surface} "${record.name}" (${record.key}) did not restore: ${toPluginError(err).message}`,
      );
    }
  }
  report.ms = performance.now() - t0;
  return report;
}

async function bytesOf(d: HostDurability, ref: SnapshotRef): Promise<Uint8Array> {
  return "inline" in ref ? ref.inline : await d.store.getBlob(ref.blob);
}

/** Every journal entry from the record's epoch on, in order, and the epoch the log continues at. */
async function journalOf(
  d: HostDurability,
  record: ResourceRecord,
): Promise<{ entries: CrdtJournalEntry[]; epoch: number }> {
  const from = record.epoch ?? 0;
  const entries: CrdtJournalEntry[] = [];
  let last = from;
  for await (const e of d.store.list({
    prefix: d.keys.journals(record.name),
    start: d.keys.journal(record.name, from),
  })) {
    const epoch = e.key[e.key.length - 2];
    if (typeof epoch !== "number") continue;
    last = Math.max(last, epoch);
    entries.push(...readJournalRecord(e.key, e.value));
  }
  return { entries, epoch: last + 1 };
}

/**
 * A stream's state as the host restores it: its output restarts at the acknowledged position (what every sink
 * acknowledged before the restart), and every logged batch from there is redelivered — the outbox is rebuilt by
 * the output itself, so each LSN reaches the sinks once more only if they had not acknowledged it.
 */
async function cdcStateOf(
  d: HostDurability,
  record: ResourceRecord,
  logged: {
    lsnStart: bigint;
    lsnEnd: bigint;
    commitMicros: bigint;
    source?: string;
    mutations?: SnapshotRef;
  }[],
): Promise<CdcStreamState> {
  const head = record.cdc as NonNullable<ResourceRecord["cdc"]>;
  const log = [];
  for (const e of logged) {
    if (e.lsnEnd <= head.confirmed) continue; // confirmed before the restart; only its deletion was lost
    log.push({
      lsnStart: e.lsnStart,
      lsnEnd: e.lsnEnd,
      commitMicros: e.commitMicros,
      ...(e.source === undefined ? {} : { source: e.source }),
      mutations: e.mutations ? await bytesOf(d, e.mutations) : null,
    });
  }
  // The log runs contiguously from the confirmed position to the last batch published (entries are written in
  // publish order, and a head never names a position past the stored log), so it, not the head, says where it ends.
  const nextLsn = log.length ? (log[log.length - 1] as { lsnEnd: bigint }).lsnEnd : head.confirmed;
  // An output may cut batches into several emits, so the sinks may have acknowledged up to an LSN inside a batch;
  // an output resumes only at a batch's start (wit/cdc.wit), so the stream goes back to the start of that batch,
  // and the sinks get its first part again (recognisable by its LSNs) rather than losing the stream.
  let resume = head.acknowledged;
  for (const e of log) if (e.lsnStart < resume && e.lsnEnd > resume) resume = e.lsnStart;
  return {
    format: 1,
    output: record.key,
    nextLsn,
    checkpointed: resume,
    emittedEnd: resume,
    acknowledged: resume,
    confirmed: {
      lsn: head.confirmed,
      ...(head.confirmedSource === undefined ? {} : { source: head.confirmedSource }),
      ...(head.confirmedMicros === undefined ? {} : { commitMicros: head.confirmedMicros }),
    },
    log,
    outbox: [],
  };
}
