/**
 * The fleet's records (see keys.ts for where each lives), as MessagePack maps with a `format` field, checked field by
 * field on the way in: a record that does not read back as what it claims to be is a typed `Corrupt` error.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { field } from "../durable/records.ts";
import { PluginError } from "../errors.ts";
import type { Key } from "../store/types.ts";
import { corruptFleetRecord } from "./errors.ts";

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });

/** The format every fleet record carries; another one is refused, never guessed at. */
export const FLEET_FORMAT = 1;

export function encode(value: object): Uint8Array {
  return encoder.encode({ format: FLEET_FORMAT, ...value });
}

/** Decodes a record and checks it with `check` (which throws a plain Error naming the field at fault). */
export function decode<T>(key: Key, bytes: Uint8Array, check: (v: Record<string, unknown>) => T): T {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    throw corruptFleetRecord(key, `not MessagePack (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corruptFleetRecord(key, "not a map");
  const v = value as Record<string, unknown>;
  if (v.format !== FLEET_FORMAT) throw corruptFleetRecord(key, `format ${String(v.format)}, expected ${FLEET_FORMAT}`);
  try {
    return check(v);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw corruptFleetRecord(key, err instanceof Error ? err.message : String(err));
  }
}

/** Plain (MessagePack) bytes of any value: what a stream's state record holds. */
export function encodeValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function decodeValue(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

function map(v: Record<string, unknown>, name: string): Record<string, unknown> {
  const x = v[name];
  if (typeof x !== "object" || x === null || Array.isArray(x) || x instanceof Uint8Array)
    throw new Error(`${name} must be a map`);
  return x as Record<string, unknown>;
}

function optional<T>(v: Record<string, unknown>, name: string, read: (v: Record<string, unknown>, n: string) => T) {
  return v[name] === undefined || v[name] === null ? undefined : read(v, name);
}

function time(v: Record<string, unknown>, name: string): number {
  const x = v[name];
  if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${name} must be a time in ms`);
  return x;
}

// payloads --------------------------------------------------------------------

/** Bytes stored inline in a record, or as a blob the record links. */
export type Payload = { inline: Uint8Array } | { blob: string; size: number };

export function readPayload(v: Record<string, unknown>, name: string): Payload {
  const p = map(v, name);
  if (p.inline instanceof Uint8Array) return { inline: p.inline };
  return { blob: field.string(p, "blob"), size: field.count(p, "size") };
}

// plugins and rollouts ----------------------------------------------------------

/** One version of a plugin, as the fleet serves it. */
export interface VersionRef {
  version: string;
  /** SHA-256 of the component bytes (what `PluginHost.plugins()` reports as `hash`). */
  hash: string;
  /** The blob holding the component bytes. */
  blob: string;
  size: number;
  /**
   * Versions whose persisted state this one was proven to read (the rollout that brought it checked them on live
   * state): CRDT replicas and index snapshots those versions wrote are merged and opened by this one.
   */
  readsFrom: string[];
}

export type RolloutPhase = "canary" | "prepare" | "committed" | "done" | "reverted";

/** A node that reached the commit barrier of a rollout, in one incarnation (process lifetime). */
export interface Prepared {
  node: string;
  incarnation: string;
  /** When it got there (wall-clock ms of that node), for progress reports. */
  at: number;
}

/**
 * A rollout of a new version to every node, all or nothing: the canary prepares first (a real reload, stopped just
 * before its commit step), then every other member; once every live member has prepared, the rollout commits and
 * every member's reload completes. A refusal anywhere reverts it: every prepared reload rolls back.
 */
export interface Rollout {
  id: string;
  from: VersionRef;
  to: VersionRef;
  phase: RolloutPhase;
  canary: string;
  /** The nodes that take part (those up when it started). */
  members: string[];
  prepared: Prepared[];
  /** Members whose reload committed. */
  committed: string[];
  startedAt: number;
  decidedAt?: number;
  endedAt?: number;
  /** Why it reverted. */
  reason?: string;
  refusedBy?: string;
}

/** What the fleet serves for one plugin id. */
export interface PluginRecord {
  id: string;
  /** What every node serves outside a rollout (after a committed rollout: its new version). */
  stable: VersionRef;
  /** The version wanted: `stable`, or the target of the rollout in progress. */
  desired: VersionRef;
  /** The last rollout, kept after it ends for status. */
  rollout?: Rollout;
}

function readVersion(v: Record<string, unknown>, name: string): VersionRef {
  const r = map(v, name);
  return {
    version: field.string(r, "version"),
    hash: field.string(r, "hash"),
    blob: field.string(r, "blob"),
    size: field.count(r, "size"),
    readsFrom: field.strings(r, "readsFrom"),
  };
}

const PHASES: readonly RolloutPhase[] = ["canary", "prepare", "committed", "done", "reverted"];

function readRollout(v: Record<string, unknown>, name: string): Rollout {
  const r = map(v, name);
  const prepared = r.prepared;
  if (!Array.isArray(prepared)) throw new Error("rollout.prepared must be a list");
  const out: Rollout = {
    id: field.string(r, "id"),
    from: readVersion(r, "from"),
    to: readVersion(r, "to"),
    phase: field.oneOf(r, "phase", PHASES),
    canary: field.string(r, "canary"),
    members: field.strings(r, "members"),
    prepared: prepared.map((p) => {
      if (typeof p !== "object" || p === null) throw new Error("rollout.prepared holds a non-map");
      const m = p as Record<string, unknown>;
      return { node: field.string(m, "node"), incarnation: field.string(m, "incarnation"), at: time(m, "at") };
    }),
    committed: field.strings(r, "committed"),
    startedAt: time(r, "startedAt"),
  };
  const decidedAt = optional(r, "decidedAt", time);
  const endedAt = optional(r, "endedAt", time);
  const reason = field.optionalString(r, "reason");
  const refusedBy = field.optionalString(r, "refusedBy");
  if (decidedAt !== undefined) out.decidedAt = decidedAt;
  if (endedAt !== undefined) out.endedAt = endedAt;
  if (reason !== undefined) out.reason = reason;
  if (refusedBy !== undefined) out.refusedBy = refusedBy;
  return out;
}

export function writePlugin(r: PluginRecord): Uint8Array {
  return encode(r);
}

export function readPlugin(key: Key, bytes: Uint8Array): PluginRecord {
  return decode(key, bytes, (v) => {
    const out: PluginRecord = {
      id: field.string(v, "id"),
      stable: readVersion(v, "stable"),
      desired: readVersion(v, "desired"),
    };
    const rollout = optional(v, "rollout", readRollout);
    if (rollout) out.rollout = rollout;
    if (key[key.length - 1] !== out.id) throw new Error(`the record under ${String(key[key.length - 1])} is ${out.id}`);
    return out;
  });
}

/** The blobs a plugin record links (so the collector keeps every version it names). */
export function pluginBlobs(r: PluginRecord): string[] {
  const ids = [r.stable.blob, r.desired.blob];
  if (r.rollout) ids.push(r.rollout.from.blob, r.rollout.to.blob);
  return [...new Set(ids)];
}

// nodes -------------------------------------------------------------------------

/** What a node serves of one plugin id. */
export interface ServingRecord {
  version: string;
  generation: number;
  hash: string;
}

/** A node's heartbeat record. */
export interface NodeRecord {
  id: string;
  /** Random per process start: a restarted node is a new incarnation of the same id. */
  incarnation: string;
  /** `"deno"`, `"node"`, `"browser"`, or what the node says it runs on. */
  runtime: string;
  state: "up" | "left";
  startedAt: number;
  /** Wall-clock time of this heartbeat (for status only: liveness is judged by versionstamps, not clocks). */
  at: number;
  heartbeatMs: number;
  plugins: Record<string, ServingRecord>;
  /** CDC streams this node delivers. */
  owns: string[];
  /** Plugin ids this node could not converge, with why. */
  diverged: Record<string, string>;
}

export function writeNode(r: NodeRecord): Uint8Array {
  return encode(r);
}

export function readNode(key: Key, bytes: Uint8Array): NodeRecord {
  return decode(key, bytes, (v) => {
    const plugins: Record<string, ServingRecord> = {};
    for (const [id, p] of Object.entries(map(v, "plugins"))) {
      if (typeof p !== "object" || p === null) throw new Error(`plugins.${id} must be a map`);
      const s = p as Record<string, unknown>;
      plugins[id] = {
        version: field.string(s, "version"),
        generation: field.count(s, "generation"),
        hash: field.string(s, "hash"),
      };
    }
    const diverged: Record<string, string> = {};
    for (const [id, why] of Object.entries(map(v, "diverged"))) {
      if (typeof why !== "string") throw new Error(`diverged.${id} must be a string`);
      diverged[id] = why;
    }
    return {
      id: field.string(v, "id"),
      incarnation: field.string(v, "incarnation"),
      runtime: field.string(v, "runtime"),
      state: field.oneOf(v, "state", ["up", "left"] as const),
      startedAt: time(v, "startedAt"),
      at: time(v, "at"),
      heartbeatMs: field.count(v, "heartbeatMs"),
      plugins,
      owns: field.strings(v, "owns"),
      diverged,
    };
  });
}

// reports -----------------------------------------------------------------------

/**
 * How one node's part in a rollout ended: `committed`, `refused` (its own reload failed, which reverts the
 * rollout) or `aborted` (the fleet reverted while it waited at the barrier); `converged` / `converge-failed` for a
 * load or reload outside a rollout (a node joining, or catching up after a restart). Reaching the barrier is
 * recorded in the rollout record's `prepared` list.
 */
export type ReportStage = "committed" | "refused" | "aborted" | "converged" | "converge-failed";

export interface ReportRecord {
  node: string;
  incarnation: string;
  plugin: string;
  rollout: string;
  stage: ReportStage;
  ok: boolean;
  at: number;
  /** The node's `ReloadReport`, as JSON-compatible data. */
  report?: unknown;
  error?: { code: number; message: string; step?: string };
}

const STAGES: readonly ReportStage[] = ["committed", "refused", "aborted", "converged", "converge-failed"];

export function writeReport(r: ReportRecord): Uint8Array {
  return encode(r);
}

export function readReport(key: Key, bytes: Uint8Array): ReportRecord {
  return decode(key, bytes, (v) => {
    const out: ReportRecord = {
      node: field.string(v, "node"),
      incarnation: field.string(v, "incarnation"),
      plugin: field.string(v, "plugin"),
      rollout: field.string(v, "rollout"),
      stage: field.oneOf(v, "stage", STAGES),
      ok: v.ok === true,
      at: time(v, "at"),
    };
    if (v.report !== undefined && v.report !== null) out.report = v.report;
    const e = optional(v, "error", map);
    if (e) {
      out.error = { code: field.count(e, "code"), message: field.string(e, "message") };
      const step = field.optionalString(e, "step");
      if (step !== undefined) out.error.step = step;
    }
    return out;
  });
}

// CRDT replicas -----------------------------------------------------------------

/** One node's replica of a CRDT state, as its plugin version persisted it. */
export interface ReplicaRecord {
  node: string;
  name: string;
  kind: string;
  plugin: string;
  /** The plugin version whose `persist` wrote `state`. */
  version: string;
  state: Payload;
  at: number;
}

export function writeReplica(r: ReplicaRecord): Uint8Array {
  return encode(r);
}

export function readReplica(key: Key, bytes: Uint8Array): ReplicaRecord {
  return decode(key, bytes, (v) => ({
    node: field.string(v, "node"),
    name: field.string(v, "name"),
    kind: field.string(v, "kind"),
    plugin: field.string(v, "plugin"),
    version: field.string(v, "version"),
    state: readPayload(v, "state"),
    at: time(v, "at"),
  }));
}

// index snapshots ---------------------------------------------------------------

export interface IndexRecord {
  name: string;
  kind: string;
  /** The options it was built with, as JSON. */
  options?: string;
  plugin: string;
  /** The plugin version whose `persist` wrote the snapshot. */
  version: string;
  snapshot: Payload;
  createdBy: string;
  at: number;
}

export function writeIndex(r: IndexRecord): Uint8Array {
  return encode(r);
}

export function readIndex(key: Key, bytes: Uint8Array): IndexRecord {
  return decode(key, bytes, (v) => {
    const out: IndexRecord = {
      name: field.string(v, "name"),
      kind: field.string(v, "kind"),
      plugin: field.string(v, "plugin"),
      version: field.string(v, "version"),
      snapshot: readPayload(v, "snapshot"),
      createdBy: field.string(v, "createdBy"),
      at: time(v, "at"),
    };
    const options = field.optionalString(v, "options");
    if (options !== undefined) out.options = options;
    return out;
  });
}

// CDC leases and stream states --------------------------------------------------

/** Who delivers a stream. `token` rises with every change of owner (a fencing token). */
export interface LeaseRecord {
  owner: string;
  incarnation: string;
  token: number;
  ttlMs: number;
  at: number;
}

export function writeLease(r: LeaseRecord): Uint8Array {
  return encode(r);
}

export function readLease(key: Key, bytes: Uint8Array): LeaseRecord {
  return decode(key, bytes, (v) => ({
    owner: field.string(v, "owner"),
    incarnation: field.string(v, "incarnation"),
    token: field.count(v, "token"),
    ttlMs: field.count(v, "ttlMs"),
    at: time(v, "at"),
  }));
}

/** A stream's state record as its owner published it (the state itself is MessagePack in `state`). */
export interface StreamRecord {
  name: string;
  output: string;
  owner: string;
  token: number;
  state: Payload;
  /** Positions, for status without decoding the state. */
  nextLsn: bigint;
  acknowledged: bigint;
  confirmed: bigint;
  at: number;
}

export function writeStream(r: StreamRecord): Uint8Array {
  return encode(r);
}

export function readStream(key: Key, bytes: Uint8Array): StreamRecord {
  return decode(key, bytes, (v) => ({
    name: field.string(v, "name"),
    output: field.string(v, "output"),
    owner: field.string(v, "owner"),
    token: field.count(v, "token"),
    state: readPayload(v, "state"),
    nextLsn: field.u64(v, "nextLsn"),
    acknowledged: field.u64(v, "acknowledged"),
    confirmed: field.u64(v, "confirmed"),
    at: time(v, "at"),
  }));
}
