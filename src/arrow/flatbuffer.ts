/**
 * A bounds-checked FlatBuffers table reader, just enough for Arrow IPC
 * metadata: every offset is checked against the message it belongs to, so
 * malformed metadata is an {@link IpcMalformed}, never a read out of range or
 * an allocation sized by an unchecked field.
 *
 * @module
 */

/** Malformed Arrow IPC bytes; `src/arrow.ts` turns it into a typed `PluginError`. */
export class IpcMalformed extends Error {
  override name = "IpcMalformed";
}

/** An Arrow IPC feature this host does not read (compression, a type apache-arrow lacks). */
export class IpcUnsupported extends Error {
  override name = "IpcUnsupported";
}

/** A vector inside a FlatBuffer: `length` elements from `start`. */
export interface FbVector {
  start: number;
  length: number;
}

/** The bytes of one FlatBuffer: `[base, end)` of `view`. */
export class FbBuffer {
  readonly view: DataView;
  readonly base: number;
  readonly end: number;

  constructor(view: DataView, base: number, end: number) {
    this.view = view;
    this.base = base;
    this.end = end;
  }

  check(pos: number, size: number, what: string): void {
    if (pos < this.base || pos + size > this.end) {
      throw new IpcMalformed(`${what} at byte ${pos} lies outside its ${this.end - this.base}-byte metadata`);
    }
  }

  u8(pos: number): number {
    this.check(pos, 1, "a byte");
    return this.view.getUint8(pos);
  }
  i16(pos: number): number {
    this.check(pos, 2, "a 16-bit field");
    return this.view.getInt16(pos, true);
  }
  u16(pos: number): number {
    this.check(pos, 2, "a 16-bit field");
    return this.view.getUint16(pos, true);
  }
  i32(pos: number): number {
    this.check(pos, 4, "a 32-bit field");
    return this.view.getInt32(pos, true);
  }
  u32(pos: number): number {
    this.check(pos, 4, "a 32-bit field");
    return this.view.getUint32(pos, true);
  }
  /** A 64-bit integer as a number; beyond ±2^53 it is refused (nothing in a stream this host reads is that big). */
  i64(pos: number, what: string): number {
    this.check(pos, 8, what);
    const v = this.view.getBigInt64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new IpcMalformed(`${what} is ${v}, beyond any size this host reads`);
    }
    return Number(v);
  }

  /** The root table (the buffer starts with its uoffset). */
  root(): FbTable {
    return this.tableAt(this.base + this.u32(this.base));
  }

  tableAt(pos: number): FbTable {
    const vtable = pos - this.i32(pos);
    const vtableLength = this.u16(vtable);
    if (vtableLength < 4 || vtableLength % 2 !== 0) throw new IpcMalformed(`invalid vtable at byte ${vtable}`);
    this.check(vtable, vtableLength, "a vtable");
    return new FbTable(this, pos, vtable, vtableLength);
  }
}

export class FbTable {
  readonly buf: FbBuffer;
  readonly pos: number;
  private readonly vtable: number;
  private readonly vtableLength: number;

  constructor(buf: FbBuffer, pos: number, vtable: number, vtableLength: number) {
    this.buf = buf;
    this.pos = pos;
    this.vtable = vtable;
    this.vtableLength = vtableLength;
  }

  /** Absolute position of field `slot`, or 0 when absent. */
  field(slot: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableLength) return 0;
    const off = this.buf.u16(this.vtable + entry);
    return off === 0 ? 0 : this.pos + off;
  }

  has(slot: number): boolean {
    return this.field(slot) !== 0;
  }

  u8(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === 0 ? fallback : this.buf.u8(p);
  }
  i16(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === 0 ? fallback : this.buf.i16(p);
  }
  i32(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === 0 ? fallback : this.buf.i32(p);
  }
  i64(slot: number, fallback: number, what: string): number {
    const p = this.field(slot);
    return p === 0 ? fallback : this.buf.i64(p, what);
  }

  private indirect(slot: number): number {
    const p = this.field(slot);
    return p === 0 ? 0 : p + this.buf.u32(p);
  }

  table(slot: number): FbTable | null {
    const p = this.indirect(slot);
    return p === 0 ? null : this.buf.tableAt(p);
  }

  /** A vector of `elementSize`-byte elements, bounds-checked as a whole. */
  vector(slot: number, elementSize: number): FbVector | null {
    const p = this.indirect(slot);
    if (p === 0) return null;
    const length = this.buf.u32(p);
    this.buf.check(p + 4, length * elementSize, `a vector of ${length} elements`);
    return { start: p + 4, length };
  }

  /** Element `i` of a vector of tables. */
  tableIn(v: FbVector, i: number): FbTable {
    const slot = v.start + 4 * i;
    return this.buf.tableAt(slot + this.buf.u32(slot));
  }

  string(slot: number): string | null {
    const v = this.vector(slot, 1);
    if (v === null) return null;
    const bytes = new Uint8Array(this.buf.view.buffer, this.buf.view.byteOffset + v.start, v.length);
    return lenient.decode(bytes);
  }
}

const lenient = new TextDecoder();
