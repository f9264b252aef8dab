// A small MessagePack codec: nil, bool, ints (incl. negative and full uint64),
// float32/64, str, bin, array, map, ext (kept raw). Decoding builds a tree of
// MpValue and never traps: truncation, bad UTF-8, absurd lengths and deep
// nesting are reported through `MpDecoded.error`.
import { ByteReader, ByteWriter, fromUtf8, isValidUtf8, utf8 } from "./bytes";

export enum MpKind {
  Nil,
  Bool,
  /** A non-negative integer (any encoding): `u`. */
  Uint,
  /** A negative integer: `i`. */
  Int,
  Float,
  Str,
  Bin,
  Array,
  Map,
  Ext,
}

const MAX_DEPTH: i32 = 64;

export class MpValue {
  kind: MpKind = MpKind.Nil;
  b: bool = false;
  u: u64 = 0;
  i: i64 = 0;
  f: f64 = 0;
  s: string = "";
  bytes: Uint8Array | null = null;
  items: MpValue[] = [];
  /** Map entries as parallel arrays, in encoded order. */
  keys: MpValue[] = [];
  values: MpValue[] = [];
  /** The value's own encoded bytes: [start, end) in the source. */
  start: i32 = 0;
  end: i32 = 0;

  get isNil(): bool {
    return this.kind == MpKind.Nil;
  }

  /** A short description for error messages. */
  describe(): string {
    switch (this.kind) {
      case MpKind.Nil:
        return "nil";
      case MpKind.Bool:
        return "bool";
      case MpKind.Uint:
        return `uint ${this.u}`;
      case MpKind.Int:
        return `int ${this.i}`;
      case MpKind.Float:
        return "float";
      case MpKind.Str:
        return "str";
      case MpKind.Bin:
        return "bin";
      case MpKind.Array:
        return `array of ${this.items.length}`;
      case MpKind.Map:
        return `map of ${this.keys.length}`;
      default:
        return "ext";
    }
  }

  /** The value under string key `key` of a map, or null. */
  get(key: string): MpValue | null {
    for (let i = 0; i < this.keys.length; i++) {
      const k = unchecked(this.keys[i]);
      if (k.kind == MpKind.Str && k.s == key) return unchecked(this.values[i]);
    }
    return null;
  }

  /** True for any integer that fits in i64. */
  get isI64(): bool {
    return this.kind == MpKind.Int || (this.kind == MpKind.Uint && this.u <= <u64>i64.MAX_VALUE);
  }

  /** The integer as i64 (check `isI64` first). */
  get asI64(): i64 {
    return this.kind == MpKind.Int ? this.i : <i64>this.u;
  }
}

export class MpDecoded {
  constructor(
    public value: MpValue | null,
    public error: string | null,
  ) {}
}

/** Decodes exactly one value spanning all of `data` (trailing bytes are an error). */
export function mpDecode(data: Uint8Array): MpDecoded {
  const r = new ByteReader(data);
  const v = readValue(r, 0);
  if (r.error != null) return new MpDecoded(null, r.error);
  if (r.remaining != 0) return new MpDecoded(null, `${r.remaining} trailing bytes after the MessagePack value`);
  return new MpDecoded(v, null);
}

function readValue(r: ByteReader, depth: i32): MpValue {
  const v = new MpValue();
  v.start = r.pos;
  if (depth > MAX_DEPTH) {
    r.fail(`MessagePack nested deeper than ${MAX_DEPTH}`);
    return v;
  }
  const t = r.u8("MessagePack type byte");
  if (r.failed) return v;
  if (t <= 0x7f) {
    v.kind = MpKind.Uint;
    v.u = t;
  } else if (t >= 0xe0) {
    v.kind = MpKind.Int;
    v.i = <i64>(<i8>t);
  } else if ((t & 0xf0) == 0x80) {
    readMap(r, v, t & 0x0f, depth);
  } else if ((t & 0xf0) == 0x90) {
    readArray(r, v, t & 0x0f, depth);
  } else if ((t & 0xe0) == 0xa0) {
    readStr(r, v, t & 0x1f);
  } else {
    switch (t) {
      case 0xc0:
        v.kind = MpKind.Nil;
        break;
      case 0xc2:
      case 0xc3:
        v.kind = MpKind.Bool;
        v.b = t == 0xc3;
        break;
      case 0xc4:
        readBin(r, v, r.u8("bin8 length"));
        break;
      case 0xc5:
        readBin(r, v, r.u16be("bin16 length"));
        break;
      case 0xc6:
        readBin(r, v, r.u32be("bin32 length"));
        break;
      case 0xc7:
        readExt(r, v, r.u8("ext8 length"));
        break;
      case 0xc8:
        readExt(r, v, r.u16be("ext16 length"));
        break;
      case 0xc9:
        readExt(r, v, r.u32be("ext32 length"));
        break;
      case 0xca: {
        const bits = r.u32be("float32");
        v.kind = MpKind.Float;
        v.f = <f64>reinterpret<f32>(bits);
        break;
      }
      case 0xcb: {
        const bits = r.u64be("float64");
        v.kind = MpKind.Float;
        v.f = reinterpret<f64>(bits);
        break;
      }
      case 0xcc:
        v.kind = MpKind.Uint;
        v.u = r.u8("uint8");
        break;
      case 0xcd:
        v.kind = MpKind.Uint;
        v.u = r.u16be("uint16");
        break;
      case 0xce:
        v.kind = MpKind.Uint;
        v.u = r.u32be("uint32");
        break;
      case 0xcf:
        v.kind = MpKind.Uint;
        v.u = r.u64be("uint64");
        break;
      case 0xd0:
        setSigned(v, <i64>(<i8>r.u8("int8")));
        break;
      case 0xd1:
        setSigned(v, <i64>(<i16>r.u16be("int16")));
        break;
      case 0xd2:
        setSigned(v, <i64>(<i32>r.u32be("int32")));
        break;
      case 0xd3:
        setSigned(v, <i64>r.u64be("int64"));
        break;
      case 0xd4:
        readExt(r, v, 1);
        break;
      case 0xd5:
        readExt(r, v, 2);
        break;
      case 0xd6:
        readExt(r, v, 4);
        break;
      case 0xd7:
        readExt(r, v, 8);
        break;
      case 0xd8:
        readExt(r, v, 16);
        break;
      case 0xd9:
        readStr(r, v, r.u8("str8 length"));
        break;
      case 0xda:
        readStr(r, v, r.u16be("str16 length"));
        break;
      case 0xdb:
        readStr(r, v, r.u32be("str32 length"));
        break;
      case 0xdc:
        readArray(r, v, r.u16be("array16 length"), depth);
        break;
      case 0xdd:
        readArray(r, v, r.u32be("array32 length"), depth);
        break;
      case 0xde:
        readMap(r, v, r.u16be("map16 length"), depth);
        break;
      case 0xdf:
        readMap(r, v, r.u32be("map32 length"), depth);
        break;
      default:
        r.fail(`0x${t.toString(16)} at offset ${v.start} is not a MessagePack type byte`);
    }
  }
  v.end = r.pos;
  return v;
}

function setSigned(v: MpValue, n: i64): void {
  if (n >= 0) {
    v.kind = MpKind.Uint;
    v.u = <u64>n;
  } else {
    v.kind = MpKind.Int;
    v.i = n;
  }
}

function lengthFits(r: ByteReader, n: u32, minBytesEach: u32, what: string): bool {
  if (r.failed) return false;
  // Every element takes at least one byte: refuse counts the input cannot hold
  // before allocating for them.
  if (<u64>n * <u64>minBytesEach > <u64>r.remaining) {
    r.fail(`truncated: ${what} claims ${n} entries at offset ${r.pos}, only ${r.remaining} bytes left`);
    return false;
  }
  return true;
}

function readStr(r: ByteReader, v: MpValue, n: u32): void {
  v.kind = MpKind.Str;
  if (!lengthFits(r, n, 1, "str")) return;
  const start = r.pos;
  const end = start + <i32>n;
  if (!isValidUtf8(r.data, start, end)) {
    r.fail(`str at offset ${v.start} is not valid UTF-8`);
    return;
  }
  v.s = fromUtf8(r.data, start, end);
  r.pos = end;
}

function readBin(r: ByteReader, v: MpValue, n: u32): void {
  v.kind = MpKind.Bin;
  if (!lengthFits(r, n, 1, "bin")) return;
  v.bytes = r.take(<i32>n, "bin");
}

function readExt(r: ByteReader, v: MpValue, n: u32): void {
  v.kind = MpKind.Ext;
  r.u8("ext type");
  if (!lengthFits(r, n, 1, "ext")) return;
  v.bytes = r.take(<i32>n, "ext");
}

function readArray(r: ByteReader, v: MpValue, n: u32, depth: i32): void {
  v.kind = MpKind.Array;
  if (!lengthFits(r, n, 1, "array")) return;
  for (let i: u32 = 0; i < n; i++) {
    const item = readValue(r, depth + 1);
    if (r.failed) return;
    v.items.push(item);
  }
}

function readMap(r: ByteReader, v: MpValue, n: u32, depth: i32): void {
  v.kind = MpKind.Map;
  if (!lengthFits(r, n, 2, "map")) return;
  for (let i: u32 = 0; i < n; i++) {
    const k = readValue(r, depth + 1);
    if (r.failed) return;
    const val = readValue(r, depth + 1);
    if (r.failed) return;
    v.keys.push(k);
    v.values.push(val);
  }
}

/** Writes MessagePack in its shortest encodings. */
export class MpWriter {
  out: ByteWriter = new ByteWriter();

  nil(): MpWriter {
    this.out.u8(0xc0);
    return this;
  }

  bool(b: bool): MpWriter {
    this.out.u8(b ? 0xc3 : 0xc2);
    return this;
  }

  uint(n: u64): MpWriter {
    const o = this.out;
    if (n <= 0x7f) o.u8(<u32>n);
    else if (n <= 0xff) {
      o.u8(0xcc);
      o.u8(<u32>n);
    } else if (n <= 0xffff) {
      o.u8(0xcd);
      o.u16be(<u32>n);
    } else if (n <= 0xffffffff) {
      o.u8(0xce);
      o.u32be(<u32>n);
    } else {
      o.u8(0xcf);
      o.u64be(n);
    }
    return this;
  }

  int(n: i64): MpWriter {
    if (n >= 0) return this.uint(<u64>n);
    const o = this.out;
    if (n >= -32) o.u8(<u32>(<u8>(<i8>n)));
    else if (n >= -128) {
      o.u8(0xd0);
      o.u8(<u32>(<u8>(<i8>n)));
    } else if (n >= -32768) {
      o.u8(0xd1);
      o.u16be(<u32>(<u16>(<i16>n)));
    } else if (n >= -2147483648) {
      o.u8(0xd2);
      o.u32be(<u32>(<i32>n));
    } else {
      o.u8(0xd3);
      o.u64be(<u64>n);
    }
    return this;
  }

  float(f: f64): MpWriter {
    this.out.u8(0xcb);
    this.out.u64be(reinterpret<u64>(f));
    return this;
  }

  str(s: string): MpWriter {
    return this.strBytes(utf8(s));
  }

  strBytes(b: Uint8Array): MpWriter {
    const o = this.out;
    const n = <u32>b.length;
    if (n <= 31) o.u8(0xa0 | n);
    else if (n <= 0xff) {
      o.u8(0xd9);
      o.u8(n);
    } else if (n <= 0xffff) {
      o.u8(0xda);
      o.u16be(n);
    } else {
      o.u8(0xdb);
      o.u32be(n);
    }
    o.bytes(b);
    return this;
  }

  bin(b: Uint8Array): MpWriter {
    const o = this.out;
    const n = <u32>b.length;
    if (n <= 0xff) {
      o.u8(0xc4);
      o.u8(n);
    } else if (n <= 0xffff) {
      o.u8(0xc5);
      o.u16be(n);
    } else {
      o.u8(0xc6);
      o.u32be(n);
    }
    o.bytes(b);
    return this;
  }

  array(n: u32): MpWriter {
    const o = this.out;
    if (n <= 15) o.u8(0x90 | n);
    else if (n <= 0xffff) {
      o.u8(0xdc);
      o.u16be(n);
    } else {
      o.u8(0xdd);
      o.u32be(n);
    }
    return this;
  }

  map(n: u32): MpWriter {
    const o = this.out;
    if (n <= 15) o.u8(0x80 | n);
    else if (n <= 0xffff) {
      o.u8(0xde);
      o.u16be(n);
    } else {
      o.u8(0xdf);
      o.u32be(n);
    }
    return this;
  }

  /** Already-encoded MessagePack bytes. */
  raw(b: Uint8Array): MpWriter {
    this.out.bytes(b);
    return this;
  }

  finish(): Uint8Array {
    return this.out.finish();
  }
}
