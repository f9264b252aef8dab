// The four CRDT kinds as in-memory models, independent of any persisted
// format. Every method that can fail validates first and mutates after, so an
// error leaves the state unchanged.
import { compareBytes, sortUtf8, utf8 } from "../../sdk/assemblyscript/bytes";
import { FnError, Result, fnError } from "../../sdk/assemblyscript/error";
import { MpKind, MpValue, MpWriter } from "../../sdk/assemblyscript/msgpack";

/** A well-formed op of the wrong shape. */
export const CODE_INVALID_OP: u32 = 0x101;
/** A value outside what the kind can represent (u64/i64 overflow). */
export const CODE_OVERFLOW: u32 = 0x104;

export const G_COUNTER = "g-counter";
export const PN_COUNTER = "pn-counter";
export const LWW_REGISTER = "lww-register";
export const OR_SET = "or-set";

export abstract class Model {
  abstract get kind(): string;
  /** `op` is the decoded op; `source` the bytes it was decoded from. */
  abstract applyOp(op: MpValue, source: Uint8Array): FnError | null;
  /** `other` is a model of the same kind. */
  abstract mergeFrom(other: Model): void;
  abstract value(): Result<Uint8Array>;
}

function invalidOp(kind: string, shape: string, got: MpValue): FnError {
  return fnError(CODE_INVALID_OP, `invalid ${kind} op: expected ${shape}, got ${got.describe()}`);
}

function isPair(op: MpValue, n: i32): bool {
  return op.kind == MpKind.Array && op.items.length == n;
}

/** replica -> count; merge is a per-replica max. */
export class GCounter extends Model {
  counts: Map<string, u64> = new Map<string, u64>();

  get kind(): string {
    return G_COUNTER;
  }

  replicas(): string[] {
    return sortUtf8(this.counts.keys());
  }

  get(replica: string): u64 {
    return this.counts.has(replica) ? this.counts.get(replica) : 0;
  }

  /** Adds `n` to `replica`'s count; refuses u64 overflow. */
  add(replica: string, n: u64): FnError | null {
    const cur = this.get(replica);
    if (cur + n < cur) return fnError(CODE_OVERFLOW, `${this.kind}: replica "${replica}" would overflow u64`);
    this.counts.set(replica, cur + n);
    return null;
  }

  /** Keeps the larger count for `replica`. */
  raise(replica: string, n: u64): void {
    if (n > this.get(replica)) this.counts.set(replica, n);
  }

  applyOp(op: MpValue, _source: Uint8Array): FnError | null {
    const shape = "[replica: str, n: uint > 0]";
    if (!isPair(op, 2)) return invalidOp(this.kind, shape, op);
    const replica = op.items[0];
    const n = op.items[1];
    if (replica.kind != MpKind.Str || n.kind != MpKind.Uint || n.u == 0) return invalidOp(this.kind, shape, op);
    return this.add(replica.s, n.u);
  }

  mergeFrom(other: Model): void {
    const o = changetype<GCounter>(other);
    const keys = o.counts.keys();
    for (let i = 0; i < keys.length; i++) this.raise(keys[i], o.counts.get(keys[i]));
  }

  /** The last `total()`. */
  sum: u64 = 0;

  /** Sums all counts into `sum`; an error on u64 overflow. */
  total(): FnError | null {
    let sum: u64 = 0;
    const values = this.counts.values();
    for (let i = 0; i < values.length; i++) {
      const next = sum + values[i];
      if (next < sum) return fnError(CODE_OVERFLOW, `${this.kind}: value overflows u64`);
      sum = next;
    }
    this.sum = sum;
    return null;
  }

  value(): Result<Uint8Array> {
    const err = this.total();
    if (err != null) return Result.err<Uint8Array>(err);
    return Result.ok<Uint8Array>(new MpWriter().uint(this.sum).finish());
  }
}

/** Two g-counters: increments and decrements. */
export class PNCounter extends Model {
  p: GCounter = new GCounter();
  n: GCounter = new GCounter();

  get kind(): string {
    return PN_COUNTER;
  }

  applyOp(op: MpValue, _source: Uint8Array): FnError | null {
    const shape = "[replica: str, delta: nonzero int]";
    if (!isPair(op, 2)) return invalidOp(this.kind, shape, op);
    const replica = op.items[0];
    const delta = op.items[1];
    if (replica.kind != MpKind.Str || !delta.isI64 || delta.asI64 == 0) return invalidOp(this.kind, shape, op);
    const d = delta.asI64;
    // 0 - d as u64 is |d| even for i64.MIN_VALUE.
    return d > 0 ? this.p.add(replica.s, <u64>d) : this.n.add(replica.s, <u64>0 - <u64>d);
  }

  mergeFrom(other: Model): void {
    const o = changetype<PNCounter>(other);
    this.p.mergeFrom(o.p);
    this.n.mergeFrom(o.n);
  }

  value(): Result<Uint8Array> {
    const pErr = this.p.total();
    if (pErr != null) return Result.err<Uint8Array>(pErr);
    const nErr = this.n.total();
    if (nErr != null) return Result.err<Uint8Array>(nErr);
    const pv = this.p.sum;
    const nv = this.n.sum;
    const w = new MpWriter();
    if (pv >= nv) {
      const d = pv - nv;
      if (d > <u64>i64.MAX_VALUE) return Result.err<Uint8Array>(fnError(CODE_OVERFLOW, `${this.kind}: value overflows i64`));
      w.uint(d);
    } else {
      const d = nv - pv;
      if (d > <u64>i64.MAX_VALUE + 1) return Result.err<Uint8Array>(fnError(CODE_OVERFLOW, `${this.kind}: value overflows i64`));
      w.int(<i64>(<u64>0 - d));
    }
    return Result.ok<Uint8Array>(w.finish());
  }
}

/**
 * Last-writer-wins register. Keeps the greatest (timestamp, replica bytes,
 * value bytes) tuple, so ties resolve the same way whichever side merges.
 */
export class LwwRegister extends Model {
  has: bool = false;
  timestamp: u64 = 0;
  replica: string = "";
  /** The value's raw MessagePack bytes. */
  raw: Uint8Array = new Uint8Array(0);

  get kind(): string {
    return LWW_REGISTER;
  }

  /** Adopts (ts, replica, raw) when it is greater than the current tuple. */
  offer(timestamp: u64, replica: string, raw: Uint8Array): void {
    if (this.has) {
      if (timestamp < this.timestamp) return;
      if (timestamp == this.timestamp) {
        const byReplica = compareBytes(utf8(replica), utf8(this.replica));
        if (byReplica < 0) return;
        if (byReplica == 0 && compareBytes(raw, this.raw) <= 0) return;
      }
    }
    this.has = true;
    this.timestamp = timestamp;
    this.replica = replica;
    this.raw = raw;
  }

  applyOp(op: MpValue, source: Uint8Array): FnError | null {
    const shape = "[timestamp: uint, replica: str, value: any]";
    if (!isPair(op, 3)) return invalidOp(this.kind, shape, op);
    const ts = op.items[0];
    const replica = op.items[1];
    const v = op.items[2];
    if (ts.kind != MpKind.Uint || replica.kind != MpKind.Str) return invalidOp(this.kind, shape, op);
    this.offer(ts.u, replica.s, source.slice(v.start, v.end));
    return null;
  }

  mergeFrom(other: Model): void {
    const o = changetype<LwwRegister>(other);
    if (o.has) this.offer(o.timestamp, o.replica, o.raw);
  }

  value(): Result<Uint8Array> {
    return Result.ok<Uint8Array>(this.has ? this.raw.slice() : new MpWriter().nil().finish());
  }
}

/**
 * Observed-remove set. `adds`: element -> tags it was added with;
 * `removes`: element -> tombstoned tags. An element is present while one of
 * its tags is not tombstoned. Merge is a union of both maps.
 */
export class OrSet extends Model {
  adds: Map<string, Set<string>> = new Map<string, Set<string>>();
  removes: Map<string, Set<string>> = new Map<string, Set<string>>();

  get kind(): string {
    return OR_SET;
  }

  static tag(into: Map<string, Set<string>>, element: string, tag: string): void {
    if (!into.has(element)) into.set(element, new Set<string>());
    into.get(element).add(tag);
  }

  applyOp(op: MpValue, _source: Uint8Array): FnError | null {
    const shape = '["add", element: str, tag: str] or ["remove", element: str, tags: [str]]';
    if (!isPair(op, 3)) return invalidOp(this.kind, shape, op);
    const verb = op.items[0];
    const element = op.items[1];
    const arg = op.items[2];
    if (verb.kind != MpKind.Str || element.kind != MpKind.Str) return invalidOp(this.kind, shape, op);
    if (verb.s == "add") {
      if (arg.kind != MpKind.Str) return invalidOp(this.kind, shape, op);
      OrSet.tag(this.adds, element.s, arg.s);
      return null;
    }
    if (verb.s == "remove") {
      if (arg.kind != MpKind.Array) return invalidOp(this.kind, shape, op);
      for (let i = 0; i < arg.items.length; i++) {
        if (arg.items[i].kind != MpKind.Str) return invalidOp(this.kind, shape, op);
      }
      for (let i = 0; i < arg.items.length; i++) OrSet.tag(this.removes, element.s, arg.items[i].s);
      return null;
    }
    return fnError(CODE_INVALID_OP, `invalid ${this.kind} op: verb must be "add" or "remove", got "${verb.s}"`);
  }

  static union(into: Map<string, Set<string>>, from: Map<string, Set<string>>): void {
    const elements = from.keys();
    for (let i = 0; i < elements.length; i++) {
      const tags = from.get(elements[i]).values();
      for (let k = 0; k < tags.length; k++) OrSet.tag(into, elements[i], tags[k]);
    }
  }

  mergeFrom(other: Model): void {
    const o = changetype<OrSet>(other);
    OrSet.union(this.adds, o.adds);
    OrSet.union(this.removes, o.removes);
  }

  isPresent(element: string): bool {
    const tags = this.adds.get(element).values();
    const dead = this.removes.has(element) ? this.removes.get(element) : new Set<string>();
    for (let i = 0; i < tags.length; i++) if (!dead.has(tags[i])) return true;
    return false;
  }

  value(): Result<Uint8Array> {
    const present: string[] = [];
    const elements = this.adds.keys();
    for (let i = 0; i < elements.length; i++) if (this.isPresent(elements[i])) present.push(elements[i]);
    sortUtf8(present);
    const w = new MpWriter().array(<u32>present.length);
    for (let i = 0; i < present.length; i++) w.str(present[i]);
    return Result.ok<Uint8Array>(w.finish());
  }
}

export function newModel(kind: string): Model | null {
  if (kind == G_COUNTER) return new GCounter();
  if (kind == PN_COUNTER) return new PNCounter();
  if (kind == LWW_REGISTER) return new LwwRegister();
  if (kind == OR_SET) return new OrSet();
  return null;
}
