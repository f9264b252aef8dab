// Just enough FlatBuffers, by hand, for Arrow IPC metadata. The reader checks
// every offset against the buffer (the first failure sticks in `error`); the
// writer lays objects out front to back so every uoffset points forward.
import { ByteWriter } from "../bytes";

export class FbBuf {
  error: string | null = null;

  constructor(public data: Uint8Array) {}

  fail(message: string): void {
    if (this.error == null) this.error = message;
  }

  ok(at: i32, size: i32): bool {
    if (this.error != null) return false;
    if (at < 0 || size < 0 || at > this.data.length - size) {
      this.fail(`flatbuffer offset ${at} (+${size}) outside its ${this.data.length} bytes`);
      return false;
    }
    return true;
  }

  u8(at: i32): u32 {
    return this.ok(at, 1) ? <u32>load<u8>(this.data.dataStart + at) : 0;
  }
  u16(at: i32): u32 {
    return this.ok(at, 2) ? <u32>load<u16>(this.data.dataStart + at) : 0;
  }
  i32(at: i32): i32 {
    return this.ok(at, 4) ? load<i32>(this.data.dataStart + at) : 0;
  }
  i64(at: i32): i64 {
    return this.ok(at, 8) ? load<i64>(this.data.dataStart + at) : 0;
  }

  /** The table the uoffset at `at` points to. */
  tableAt(at: i32): FbTable | null {
    const off = this.i32(at);
    if (this.error != null) return null;
    if (off <= 0) {
      this.fail(`flatbuffer offset ${off} at ${at} is not positive`);
      return null;
    }
    const pos = at + off;
    const vt = pos - this.i32(pos);
    const vtLen = <i32>this.u16(vt);
    if (this.error != null) return null;
    if (vtLen < 4 || (vtLen & 1) != 0 || !this.ok(vt, vtLen)) {
      this.fail(`flatbuffer vtable at ${vt} has bad size ${vtLen}`);
      return null;
    }
    return new FbTable(this, pos, vt, vtLen);
  }
}

export class FbTable {
  constructor(
    public buf: FbBuf,
    public pos: i32,
    public vt: i32,
    public vtLen: i32,
  ) {}

  /** Absolute position of field `id`, or 0 when absent. */
  field(id: i32): i32 {
    const slot = 4 + 2 * id;
    if (slot + 2 > this.vtLen) return 0;
    const off = <i32>this.buf.u16(this.vt + slot);
    return off == 0 ? 0 : this.pos + off;
  }

  u8(id: i32, dflt: u32): u32 {
    const at = this.field(id);
    return at == 0 ? dflt : this.buf.u8(at);
  }
  i16(id: i32, dflt: i32): i32 {
    const at = this.field(id);
    return at == 0 ? dflt : <i32>(<i16>this.buf.u16(at));
  }
  i32(id: i32, dflt: i32): i32 {
    const at = this.field(id);
    return at == 0 ? dflt : this.buf.i32(at);
  }
  i64(id: i32, dflt: i64): i64 {
    const at = this.field(id);
    return at == 0 ? dflt : this.buf.i64(at);
  }

  table(id: i32): FbTable | null {
    const at = this.field(id);
    return at == 0 ? null : this.buf.tableAt(at);
  }

  /** Position of a vector's first element and its length; length -1 when absent. */
  vector(id: i32, elementSize: i32): FbVector {
    const at = this.field(id);
    if (at == 0) return new FbVector(0, -1);
    const start = at + this.buf.i32(at);
    const n = this.buf.i32(start);
    if (this.buf.error != null) return new FbVector(0, -1);
    if (n < 0 || !this.buf.ok(start + 4, <i32>min(<i64>n * elementSize, <i64>i32.MAX_VALUE))) {
      this.buf.fail(`flatbuffer vector of ${n} at ${start} does not fit`);
      return new FbVector(0, -1);
    }
    return new FbVector(start + 4, n);
  }

  /** A string field (UTF-8 as stored; Arrow names are not validated further). */
  string(id: i32): string | null {
    const v = this.vector(id, 1);
    if (v.length < 0) return null;
    return String.UTF8.decodeUnsafe(this.buf.data.dataStart + <usize>v.start, <usize>v.length);
  }

  /** Element `i` of a vector of tables. */
  tableIn(v: FbVector, i: i32): FbTable | null {
    return this.buf.tableAt(v.start + 4 * i);
  }
}

export class FbVector {
  constructor(
    public start: i32,
    public length: i32,
  ) {}
}

// ---- writer ------------------------------------------------------------------

export abstract class FbNode {
  /** Writes the object after everything already in `b`; returns the position a uoffset must point at. */
  abstract write(b: ByteWriter): i32;
}

class FbSlot {
  constructor(
    public id: i32,
    public size: i32,
    public value: i64,
    public node: FbNode | null,
  ) {}
}

export class FbTableNode extends FbNode {
  slots: FbSlot[] = [];

  scalar(id: i32, size: i32, value: i64): FbTableNode {
    this.slots.push(new FbSlot(id, size, value, null));
    return this;
  }

  offset(id: i32, node: FbNode): FbTableNode {
    this.slots.push(new FbSlot(id, 4, 0, node));
    return this;
  }

  write(b: ByteWriter): i32 {
    // Field layout: 8-byte fields first (the table starts 4 mod 8 so they
    // land 8-aligned after the 4-byte vtable offset), then 4, 2, 1.
    const ordered = this.slots.slice();
    ordered.sort((x: FbSlot, y: FbSlot): i32 => y.size - x.size);
    const fieldOffsets = new Array<i32>(ordered.length);
    let cursor = 4;
    for (let i = 0; i < ordered.length; i++) {
      const size = ordered[i].size;
      while ((cursor + (size == 8 ? 4 : 0)) % size != 0) cursor++;
      fieldOffsets[i] = cursor;
      cursor += size;
    }
    const tableSize = cursor;
    let maxId = -1;
    for (let i = 0; i < ordered.length; i++) maxId = max(maxId, ordered[i].id);
    const vtSize = 4 + 2 * (maxId + 1);

    b.align(2);
    const vtPos = b.length;
    b.u16le(vtSize);
    b.u16le(tableSize);
    for (let id = 0; id <= maxId; id++) {
      let off = 0;
      for (let i = 0; i < ordered.length; i++) if (ordered[i].id == id) off = fieldOffsets[i];
      b.u16le(off);
    }
    while ((b.length + 4) % 8 != 0) b.u8(0);
    const pos = b.length;
    b.zeros(tableSize);
    b.patchU32le(pos, <u32>(pos - vtPos));
    for (let i = 0; i < ordered.length; i++) {
      const s = ordered[i];
      const at = b.buf.dataStart + pos + fieldOffsets[i];
      if (s.node != null) continue;
      if (s.size == 1) store<u8>(at, <u8>s.value);
      else if (s.size == 2) store<u16>(at, <u16>s.value);
      else if (s.size == 4) store<u32>(at, <u32>s.value);
      else store<u64>(at, <u64>s.value);
    }
    for (let i = 0; i < ordered.length; i++) {
      const node = ordered[i].node;
      if (node == null) continue;
      const at = pos + fieldOffsets[i];
      const target = node.write(b);
      b.patchU32le(at, <u32>(target - at));
    }
    return pos;
  }
}

export class FbStringNode extends FbNode {
  constructor(public value: string) {
    super();
  }

  write(b: ByteWriter): i32 {
    b.align(4);
    const pos = b.length;
    const bytes = Uint8Array.wrap(String.UTF8.encode(this.value));
    b.u32le(<u32>bytes.length);
    b.bytes(bytes);
    b.u8(0);
    return pos;
  }
}

/** A vector of tables or strings (uoffsets). */
export class FbOffsetVector extends FbNode {
  constructor(public items: FbNode[]) {
    super();
  }

  write(b: ByteWriter): i32 {
    b.align(4);
    const pos = b.length;
    b.u32le(<u32>this.items.length);
    const first = b.length;
    b.zeros(4 * this.items.length);
    for (let i = 0; i < this.items.length; i++) {
      const at = first + 4 * i;
      const target = this.items[i].write(b);
      b.patchU32le(at, <u32>(target - at));
    }
    return pos;
  }
}

/** A vector of structs made of 8-byte fields (Arrow's FieldNode and Buffer). */
export class FbStructVector extends FbNode {
  constructor(
    public count: i32,
    public raw: Uint8Array,
  ) {
    super();
  }

  write(b: ByteWriter): i32 {
    while ((b.length + 4) % 8 != 0) b.u8(0);
    const pos = b.length;
    b.u32le(<u32>this.count);
    b.bytes(this.raw);
    return pos;
  }
}

/** Serializes a root table. */
export function fbFinish(root: FbTableNode): Uint8Array {
  const b = new ByteWriter(256);
  b.zeros(4);
  const pos = root.write(b);
  b.patchU32le(0, <u32>pos);
  return b.finish();
}
