/**
 * What a durable host keeps in its `StateStore`, and how each record is written and read back. Everything lives
 * under `["uni", namespace, …]` (one namespace per host; hosts sharing a store use different ones):
 *
 *     plugin  <id>                  which version serves: version, generation, component blob, grants
 *     gen     <id>                  the generation counter (u64, never repeats across restarts)
 *     res     <surface> <name>      a live resource: its kind, options, snapshot (inline or a blob)
 *     journal <name> <epoch> <seq>  a CRDT state's ops since its snapshot: one packed record per commit (Journal)
 *     cdc-log <name> <lsnStart>     a CDC stream's published batches not yet confirmed
 *     samples <type>                the literals a logical type has seen (the reload's samples)
 *     quarantine …                  records that failed to restore, with why
 *
 * Records are MessagePack, checked field by field on the way in: a record that does not read back as what it
 * claims to be is a typed `Corrupt` error, and the restore quarantines it.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { ErrorCode, PluginError } from "../errors.ts";
import type { Key } from "../store/types.ts";

const encoder = new Encoder({ useBigInt64: true });
const decoder = new Decoder({ useBigInt64: true });

/** The format every record below carries; a different one is refused (never guessed at). */
export const RECORD_FORMAT = 1;

/** Values up to this size are stored inline in their record; larger snapshots become blobs. */
export const INLINE_BYTES = 48 * 1024;

export function encodeRecord(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decodes and checks a record: `check` throws (with `bad`) for anything but the expected shape. */
export function decodeRecord<T>(key: Key, bytes: Uint8Array, check: (v: Record<string, unknown>) => T): T {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    throw corruptRecord(key, `not MessagePack (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corruptRecord(key, "not a map");
  const v = value as Record<string, unknown>;
  if (v.format !== RECORD_FORMAT) throw corruptRecord(key, `format ${String(v.format)}, expected ${RECORD_FORMAT}`);
  try {
    return check(v);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw corruptRecord(key, err instanceof Error ? err.message : String(err));
  }
}

export function corruptRecord(key: Key, why: string): PluginError {
  return new PluginError(ErrorCode.Corrupt, `record ${JSON.stringify(key.map(String))} is damaged: ${why}`);
}

/** Field readers for `decodeRecord` checks: each throws a plain Error naming the field. */
export const field = {
  string(v: Record<string, unknown>, name: string): string {
    const x = v[name];
    if (typeof x !== "string") throw new Error(`${name} must be a string`);
    return x;
  },
  optionalString(v: Record<string, unknown>, name: string): string | undefined {
    const x = v[name];
    if (x !== undefined && x !== null && typeof x !== "string") throw new Error(`${name} must be a string`);
    return (x ?? undefined) as string | undefined;
  },
  count(v: Record<string, unknown>, name: string): number {
    const x = v[name];
    const n = typeof x === "bigint" ? Number(x) : x;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a count`);
    return n;
  },
  u64(v: Record<string, unknown>, name: string): bigint {
    const x = v[name];
    const n = typeof x === "number" && Number.isSafeInteger(x) ? BigInt(x) : x;
    if (typeof n !== "bigint" || n < 0n || n >= 1n << 64n) throw new Error(`${name} must be a u64`);
    return n;
  },
  s64(v: Record<string, unknown>, name: string): bigint {
    const x = v[name];
    const n = typeof x === "number" && Number.isSafeInteger(x) ? BigInt(x) : x;
    if (typeof n !== "bigint" || n < -(1n << 63n) || n >= 1n << 63n) throw new Error(`${name} must be an s64`);
    return n;
  },
  bytes(v: Record<string, unknown>, name: string): Uint8Array {
    const x = v[name];
    if (!(x instanceof Uint8Array)) throw new Error(`${name} must be bytes`);
    return x;
  },
  strings(v: Record<string, unknown>, name: string): string[] {
    const x = v[name];
    if (!Array.isArray(x) || !x.every((s) => typeof s === "string")) throw new Error(`${name} must be strings`);
    return x as string[];
  },
  oneOf<T extends string>(v: Record<string, unknown>, name: string, values: readonly T[]): T {
    const x = v[name];
    if (!values.includes(x as T)) throw new Error(`${name} must be one of ${values.join(", ")}`);
    return x as T;
  },
};

/** The keys of one host's records. */
export class Keys {
  constructor(readonly namespace: string) {}
  get root(): Key {
    return ["uni", this.namespace];
  }
  plugins(): Key {
    return ["uni", this.namespace, "plugin"];
  }
  plugin(id: string): Key {
    return ["uni", this.namespace, "plugin", id];
  }
  generation(id: string): Key {
    return ["uni", this.namespace, "gen", id];
  }
  generations(): Key {
    return ["uni", this.namespace, "gen"];
  }
  resources(): Key {
    return ["uni", this.namespace, "res"];
  }
  resource(surface: string, name: string): Key {
    return ["uni", this.namespace, "res", surface, name];
  }
  journal(name: string, epoch: number): Key {
    return ["uni", this.namespace, "journal", name, epoch];
  }
  journals(name: string): Key {
    return ["uni", this.namespace, "journal", name];
  }
  cdcLog(name: string): Key {
    return ["uni", this.namespace, "cdc-log", name];
  }
  cdcEntry(name: string, lsnStart: bigint): Key {
    return ["uni", this.namespace, "cdc-log", name, lsnStart];
  }
  samples(): Key {
    return ["uni", this.namespace, "samples"];
  }
  sample(type: string): Key {
    return ["uni", this.namespace, "samples", type];
  }
  quarantine(original: Key): Key {
    return ["uni", this.namespace, "quarantine", ...original.slice(2)];
  }
  quarantined(): Key {
    return ["uni", this.namespace, "quarantine"];
  }
}

/** Which version serves a plugin id. */
export interface PluginRecord {
  id: string;
  version: string;
  generation: number;
  /** Blob id of the component's bytes. */
  component: string;
  /** SHA-256 of the component's bytes (what `plugins()` reports). */
  hash: string;
  /** The grants the version was loaded with, if narrowed. */
  grants?: string[];
  /** Where its instance runs (`"worker"`); absent: the host's thread. */
  isolation?: "thread" | "worker";
}

export function writePlugin(r: PluginRecord): Uint8Array {
  return encodeRecord({ format: RECORD_FORMAT, ...r });
}

export function readPlugin(key: Key, bytes: Uint8Array): PluginRecord {
  return decodeRecord(key, bytes, (v) => {
    const grants = v.grants === undefined || v.grants === null ? undefined : field.strings(v, "grants");
    const isolation =
      v.isolation === undefined || v.isolation === null
        ? undefined
        : field.oneOf(v, "isolation", ["thread", "worker"] as const);
    return {
      ...(isolation ? { isolation } : {}),
      id: field.string(v, "id"),
      version: field.string(v, "version"),
      generation: field.count(v, "generation"),
      component: field.string(v, "component"),
      hash: field.string(v, "hash"),
      ...(grants ? { grants } : {}),
    };
  });
}

/** A snapshot: bytes inline, or the id of the blob holding them. */
export type SnapshotRef = { inline: Uint8Array } | { blob: string; size: number };

/** A live resource: what to recreate it from. */
export interface ResourceRecord {
  surface: "index" | "crdt" | "cdc";
  name: string;
  /** The plugin that served it when written (the restore asks the registry for whoever provides `key` now). */
  plugin: string;
  /** Index kind, CRDT kind or CDC output. */
  key: string;
  /** The plugin version whose `persist` wrote the snapshot. */
  version: string;
  /** Index options as JSON; CDC options as JSON with bigints as strings. */
  options?: string;
  /** Index and CRDT: the persisted bytes. */
  snapshot?: SnapshotRef;
  /** CRDT: the journal epoch whose ops apply on top of the snapshot. */
  epoch?: number;
  /** CDC: the stream's positions (see CdcStreamState). */
  cdc?: CdcHead;
}

/** A CDC stream's positions, all exclusive LSN bounds: confirmed <= acknowledged <= nextLsn. */
export interface CdcHead {
  nextLsn: bigint;
  acknowledged: bigint;
  checkpointed: bigint;
  confirmed: bigint;
  confirmedSource?: string;
  confirmedMicros?: bigint;
}

export function writeResource(r: ResourceRecord): Uint8Array {
  return encodeRecord({ format: RECORD_FORMAT, ...r });
}

export function readResource(key: Key, bytes: Uint8Array): ResourceRecord {
  return decodeRecord(key, bytes, (v) => {
    const surface = field.oneOf(v, "surface", ["index", "crdt", "cdc"] as const);
    const out: ResourceRecord = {
      surface,
      name: field.string(v, "name"),
      plugin: field.string(v, "plugin"),
      key: field.string(v, "key"),
      version: field.string(v, "version"),
    };
    const options = field.optionalString(v, "options");
    if (options !== undefined) out.options = options;
    if (v.snapshot !== undefined && v.snapshot !== null) out.snapshot = readSnapshotRef(v.snapshot);
    if (v.epoch !== undefined && v.epoch !== null) out.epoch = field.count(v, "epoch");
    if (v.cdc !== undefined && v.cdc !== null) {
      const c = v.cdc as Record<string, unknown>;
      if (typeof c !== "object") throw new Error("cdc must be a map");
      const head: CdcHead = {
        nextLsn: field.u64(c, "nextLsn"),
        acknowledged: field.u64(c, "acknowledged"),
        checkpointed: field.u64(c, "checkpointed"),
        confirmed: field.u64(c, "confirmed"),
      };
      const source = field.optionalString(c, "confirmedSource");
      if (source !== undefined) head.confirmedSource = source;
      if (c.confirmedMicros !== undefined && c.confirmedMicros !== null)
        head.confirmedMicros = field.s64(c, "confirmedMicros");
      if (!(head.confirmed <= head.acknowledged && head.acknowledged <= head.nextLsn)) {
        throw new Error(
          `cdc positions out of order: confirmed ${head.confirmed}, acknowledged ${head.acknowledged}, next ${head.nextLsn}`,
        );
      }
      out.cdc = head;
    }
    if ((surface === "index" || surface === "crdt") && !out.snapshot) throw new Error(`a ${surface} needs a snapshot`);
    if (surface === "cdc" && !out.cdc) throw new Error("a cdc stream needs its positions");
    return out;
  });
}

function readSnapshotRef(x: unknown): SnapshotRef {
  if (typeof x !== "object" || x === null) throw new Error("snapshot must be a map");
  const s = x as Record<string, unknown>;
  if (s.inline instanceof Uint8Array) return { inline: s.inline };
  return { blob: field.string(s, "blob"), size: field.count(s, "size") };
}

/** One published CDC batch in the durable log. */
export interface CdcLogRecord {
  lsnStart: bigint;
  lsnEnd: bigint;
  commitMicros: bigint;
  source?: string;
  /** The batch's Arrow IPC, inline or as a blob; absent once every sink has acknowledged it. */
  mutations?: SnapshotRef;
}

export function writeCdcEntry(r: CdcLogRecord): Uint8Array {
  return encodeRecord({ format: RECORD_FORMAT, ...r });
}

export function readCdcEntry(key: Key, bytes: Uint8Array): CdcLogRecord {
  return decodeRecord(key, bytes, (v) => {
    const out: CdcLogRecord = {
      lsnStart: field.u64(v, "lsnStart"),
      lsnEnd: field.u64(v, "lsnEnd"),
      commitMicros: field.s64(v, "commitMicros"),
    };
    if (out.lsnEnd <= out.lsnStart) throw new Error(`an empty LSN range [${out.lsnStart}, ${out.lsnEnd})`);
    const source = field.optionalString(v, "source");
    if (source !== undefined) out.source = source;
    if (v.mutations !== undefined && v.mutations !== null) out.mutations = readSnapshotRef(v.mutations);
    return out;
  });
}

export function writeSamples(literals: readonly string[]): Uint8Array {
  return encodeRecord({ format: RECORD_FORMAT, literals });
}

export function readSamples(key: Key, bytes: Uint8Array): string[] {
  return decodeRecord(key, bytes, (v) => field.strings(v, "literals"));
}

/** A CRDT journal entry: an op applied, or persisted bytes merged. */
export type CrdtJournalEntry = { op: "apply"; bytes: Uint8Array } | { op: "merge"; bytes: Uint8Array };

const APPLY = 1;
const MERGE = 2;
/** A journal record holding several ops, in order: group commit at the host puts every op of a commit in one. */
const PACKED = 3;

/** Bytes one entry takes inside a packed journal record. */
export function packedSize(e: CrdtJournalEntry): number {
  return 5 + e.bytes.length;
}

/**
 * One journal record holding `entries` in order: `u8 3`, then per entry `u8 kind` (1 apply, 2 merge), `u32 length`
 * (little-endian), the bytes. One record (one key, one checksum) per commit, however many ops it carries.
 */
export function writeJournalRecord(entries: readonly CrdtJournalEntry[]): Uint8Array {
  let size = 1;
  for (const e of entries) size += packedSize(e);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = PACKED;
  let at = 1;
  for (const e of entries) {
    out[at] = e.op === "apply" ? APPLY : MERGE;
    view.setUint32(at + 1, e.bytes.length, true);
    out.set(e.bytes, at + 5);
    at += 5 + e.bytes.length;
  }
  return out;
}

/**
 * The entries of one journal record: a packed record, or a record of one entry (`u8 kind`, then the bytes).
 *
 * # Errors
 * `Corrupt` when the record is neither (its checksum held, so a bug or a foreign writer made it).
 */
export function readJournalRecord(key: Key, bytes: Uint8Array): CrdtJournalEntry[] {
  if (bytes[0] === APPLY) return [{ op: "apply", bytes: bytes.subarray(1) }];
  if (bytes[0] === MERGE) return [{ op: "merge", bytes: bytes.subarray(1) }];
  if (bytes[0] !== PACKED) {
    throw corruptRecord(key, `journal record tag ${bytes[0]} is none of apply (1), merge (2), packed (3)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CrdtJournalEntry[] = [];
  let at = 1;
  while (at < bytes.length) {
    const kind = bytes[at];
    if ((kind !== APPLY && kind !== MERGE) || at + 5 > bytes.length) {
      throw corruptRecord(key, `packed journal record: entry ${out.length} at byte ${at} is damaged`);
    }
    const length = view.getUint32(at + 1, true);
    if (at + 5 + length > bytes.length) {
      throw corruptRecord(key, `packed journal record: entry ${out.length} runs past the end`);
    }
    const entry = bytes.subarray(at + 5, at + 5 + length);
    out.push(kind === APPLY ? { op: "apply", bytes: entry } : { op: "merge", bytes: entry });
    at += 5 + length;
  }
  return out;
}
