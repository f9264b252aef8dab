// The in-memory Arrow model the SDK reads and writes: one field, columns of
// Utf8, LargeUtf8, Binary, FixedSizeBinary, Float64, Float32, Int64 and
// FixedSizeList. LargeUtf8 is held like Utf8 (i32 offsets: a wasm32 column
// never reaches 2 GiB); only its offsets on the wire are 64-bit.
import { ByteWriter, utf8 } from "../bytes";

export enum TypeId {
  Utf8,
  Binary,
  FixedSizeBinary,
  Float64,
  Float32,
  Int64,
  FixedSizeList,
  LargeUtf8,
}

export class DataType {
  constructor(
    public id: TypeId,
    /** byteWidth of FixedSizeBinary, listSize of FixedSizeList. */
    public width: i32 = 0,
    public child: Field | null = null,
  ) {}

  static utf8(): DataType {
    return new DataType(TypeId.Utf8);
  }
  static largeUtf8(): DataType {
    return new DataType(TypeId.LargeUtf8);
  }
  static binary(): DataType {
    return new DataType(TypeId.Binary);
  }
  static fixedSizeBinary(width: i32): DataType {
    return new DataType(TypeId.FixedSizeBinary, width);
  }
  static float64(): DataType {
    return new DataType(TypeId.Float64);
  }
  static fixedSizeList(size: i32, child: Field): DataType {
    return new DataType(TypeId.FixedSizeList, size, child);
  }

  /** apache-arrow's `DataType.toString()` spelling. */
  toString(): string {
    switch (this.id) {
      case TypeId.Utf8:
        return "Utf8";
      case TypeId.LargeUtf8:
        return "LargeUtf8";
      case TypeId.Binary:
        return "Binary";
      case TypeId.FixedSizeBinary:
        return `FixedSizeBinary[${this.width}]`;
      case TypeId.Float64:
        return "Float64";
      case TypeId.Float32:
        return "Float32";
      case TypeId.Int64:
        return "Int64";
      default:
        return `FixedSizeList[${this.width}]<${changetype<Field>(this.child).type.toString()}>`;
    }
  }

  /** Utf8, LargeUtf8 or Binary: offsets plus data. */
  get isVariable(): bool {
    return this.id == TypeId.Utf8 || this.id == TypeId.LargeUtf8 || this.id == TypeId.Binary;
  }

  /** Bytes per value for fixed-width types, 0 otherwise. */
  get fixedWidth(): i32 {
    if (this.id == TypeId.Float64 || this.id == TypeId.Int64) return 8;
    if (this.id == TypeId.Float32) return 4;
    if (this.id == TypeId.FixedSizeBinary) return this.width;
    return 0;
  }
}

export class Field {
  metadataKeys: string[] = [];
  metadataValues: string[] = [];

  constructor(
    public name: string,
    public type: DataType,
    public nullable: bool = true,
  ) {}

  withMetadata(key: string, value: string): Field {
    this.metadataKeys.push(key);
    this.metadataValues.push(value);
    return this;
  }

  metadata(key: string): string | null {
    for (let i = 0; i < this.metadataKeys.length; i++) if (this.metadataKeys[i] == key) return this.metadataValues[i];
    return null;
  }
}

/**
 * One column of one record batch. `validity` is an LSB-first bitmap or null
 * (all valid); `offsets` (Utf8/Binary) holds length + 1 i32s; `data` the
 * values; `child` the values column of a FixedSizeList.
 */
export class Column {
  validity: Uint8Array | null = null;
  nullCount: i32 = 0;
  offsets: Int32Array | null = null;
  data: Uint8Array = new Uint8Array(0);
  child: Column | null = null;

  constructor(
    public type: DataType,
    public length: i32,
  ) {}

  isNull(i: i32): bool {
    const v = this.validity;
    if (v == null) return false;
    return ((<i32>unchecked(v[i >> 3])) & (1 << (i & 7))) == 0;
  }

  /** Value `i` of a Utf8/Binary column (a copy). */
  bytesAt(i: i32): Uint8Array {
    const o = changetype<Int32Array>(this.offsets);
    return this.data.slice(unchecked(o[i]), unchecked(o[i + 1]));
  }

  /** Value `i` of a Utf8 column (validated when read). */
  stringAt(i: i32): string {
    const o = changetype<Int32Array>(this.offsets);
    const start = unchecked(o[i]);
    return String.UTF8.decodeUnsafe(this.data.dataStart + <usize>start, <usize>(unchecked(o[i + 1]) - start));
  }

  /** Value `i` of a Float64 column. */
  f64At(i: i32): f64 {
    return load<f64>(this.data.dataStart + (<usize>i << 3));
  }
}

/** Builds a column row by row. */
export class ColumnBuilder {
  validity: ByteWriter = new ByteWriter();
  data: ByteWriter = new ByteWriter();
  offsets: i32[] = [0];
  length: i32 = 0;
  nullCount: i32 = 0;
  child: ColumnBuilder | null = null;

  constructor(public type: DataType) {
    if (type.id == TypeId.FixedSizeList) this.child = new ColumnBuilder(changetype<Field>(type.child).type);
  }

  /**
   * Preallocates for `rows` more rows, `bytesPerValue` data bytes each for
   * Utf8/Binary (an estimate; fixed-width types know theirs), so a row loop
   * does not regrow and copy its buffers as it goes.
   */
  reserve(rows: i32, bytesPerValue: i32 = 0): void {
    if (rows <= 0) return;
    this.validity.ensure((rows + 7) >> 3);
    const t = this.type;
    if (t.id == TypeId.FixedSizeList) changetype<ColumnBuilder>(this.child).reserve(rows * t.width);
    else if (t.isVariable) this.data.ensure(rows * max(bytesPerValue, 0));
    else this.data.ensure(rows * t.fixedWidth);
  }

  private mark(valid: bool): void {
    if ((this.length & 7) == 0) this.validity.u8(0);
    if (valid) {
      const at = this.validity.buf.dataStart + (this.length >> 3);
      store<u8>(at, load<u8>(at) | (<u8>1 << <u8>(this.length & 7)));
    } else this.nullCount++;
    this.length++;
  }

  appendNull(): void {
    const t = this.type;
    if (t.isVariable) this.offsets.push(this.data.length);
    else if (t.id == TypeId.FixedSizeList) {
      const child = changetype<ColumnBuilder>(this.child);
      for (let k = 0; k < t.width; k++) child.appendF64(0);
    } else this.data.zeros(t.fixedWidth);
    this.mark(false);
  }

  appendBytes(b: Uint8Array): void {
    this.data.bytes(b);
    if (this.type.id != TypeId.FixedSizeBinary) this.offsets.push(this.data.length);
    this.mark(true);
  }

  appendString(s: string): void {
    this.appendBytes(utf8(s));
  }

  appendF64(v: f64): void {
    this.data.f64le(v);
    this.mark(true);
  }

  /**
   * Ends a Utf8/Binary/FixedSizeBinary value whose bytes the caller appended
   * to `data` directly (no intermediate string or array per row).
   */
  endValue(): void {
    if (this.type.id != TypeId.FixedSizeBinary) this.offsets.push(this.data.length);
    this.mark(true);
  }

  /** A FixedSizeList[2]<Float64> row, without an intermediate array. */
  appendF64Pair(a: f64, b: f64): void {
    const child = changetype<ColumnBuilder>(this.child);
    child.appendF64(a);
    child.appendF64(b);
    this.mark(true);
  }

  /** A FixedSizeList<Float64> row. */
  appendF64List(values: f64[]): void {
    const child = changetype<ColumnBuilder>(this.child);
    for (let k = 0; k < values.length; k++) child.appendF64(values[k]);
    this.mark(true);
  }

  finish(): Column {
    const c = new Column(this.type, this.length);
    c.nullCount = this.nullCount;
    c.validity = this.nullCount > 0 ? this.validity.finish() : null;
    c.data = this.data.finish();
    if (this.type.isVariable) {
      const o = new Int32Array(this.offsets.length);
      for (let i = 0; i < this.offsets.length; i++) o[i] = this.offsets[i];
      c.offsets = o;
    }
    const child = this.child;
    if (child != null) c.child = child.finish();
    return c;
  }
}

/** A decoded IPC stream: its single field and one column per record batch. */
export class ArrowStream {
  batches: Column[] = [];

  constructor(public field: Field) {}
}
