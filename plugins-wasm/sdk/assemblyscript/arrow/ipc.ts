// Arrow IPC *stream* format: Schema message, RecordBatch messages, optional
// end-of-stream marker. Messages are `ffffffff <i32 metadata length>
// <flatbuffer Message, padded to 8> <body>`; body buffers are 8-byte aligned,
// uncompressed. Anything else (dictionaries, compression, other types, more
// than one field) is refused with a code-2 error saying what it was: the
// column and its type in Arrow's spelling (see type-name.ts), the codec.
import { ByteReader, ByteWriter, isValidUtf8 } from "../bytes";
import { Result, malformed } from "../error";
import { ArrowStream, Column, DataType, Field, TypeId } from "./column";
import { FbBuf, FbNode, FbOffsetVector, FbStringNode, FbStructVector, FbTable, FbTableNode, fbFinish } from "./flatbuffers";
import { typeName } from "./type-name";

const HEADER_SCHEMA: u32 = 1;
const HEADER_DICTIONARY: u32 = 2;
const HEADER_RECORD_BATCH: u32 = 3;
const METADATA_V5: i64 = 4;

// Type union ids (Schema.fbs).
const T_INT: u32 = 2;
const T_FLOAT: u32 = 3;
const T_BINARY: u32 = 4;
const T_UTF8: u32 = 5;
const T_LARGE_UTF8: u32 = 20;
const T_FIXED_SIZE_BINARY: u32 = 15;
const T_FIXED_SIZE_LIST: u32 = 16;

const MAX_NESTING: i32 = 4;
const CODECS: string[] = ["LZ4_FRAME", "ZSTD"];
const READS = "Utf8, LargeUtf8, Binary, FixedSizeBinary, Float32, Float64, Int64, FixedSizeList<Float32 or Float64>";

function bad(what: string): Result<ArrowStream> {
  return Result.err<ArrowStream>(malformed(`malformed Arrow IPC: ${what}`));
}

// ---- reading -----------------------------------------------------------------

class ParseError {
  message: string | null = null;
  fail(m: string): void {
    if (this.message == null) this.message = m;
  }
}

/** Refuses field `f` by name and type (Arrow's spelling). */
function unsupported(f: FbTable, err: ParseError): DataType | null {
  const name = f.string(0);
  err.fail(`column '${name != null ? name : ""}' is ${typeName(f)}; this plugin reads ${READS}`);
  return null;
}

function readType(t: FbTable, typeId: u32, children: FbTable[], err: ParseError, depth: i32): DataType | null {
  if (typeId == T_UTF8) return DataType.utf8();
  if (typeId == T_LARGE_UTF8) return DataType.largeUtf8();
  if (typeId == T_BINARY) return DataType.binary();
  const tt = t.table(3);
  if (typeId == T_FIXED_SIZE_BINARY) {
    const w = tt == null ? 0 : tt.i32(0, 0);
    if (w <= 0) err.fail(`FixedSizeBinary byteWidth ${w}`);
    return DataType.fixedSizeBinary(w);
  }
  if (typeId == T_FLOAT) {
    const precision = tt == null ? 0 : tt.i16(0, 0);
    if (precision == 2) return DataType.float64();
    if (precision == 1) return new DataType(TypeId.Float32);
    return unsupported(t, err);
  }
  if (typeId == T_INT) {
    const bits = tt == null ? 0 : tt.i32(0, 0);
    const signed = tt == null ? 0 : tt.u8(1, 0);
    if (bits == 64 && signed == 1) return new DataType(TypeId.Int64);
    return unsupported(t, err);
  }
  if (typeId == T_FIXED_SIZE_LIST) {
    const size = tt == null ? 0 : tt.i32(0, 0);
    if (size <= 0) {
      err.fail(`FixedSizeList listSize ${size}`);
      return null;
    }
    if (children.length != 1) {
      err.fail(`FixedSizeList with ${children.length} children`);
      return null;
    }
    const childId = children[0].u8(2, 0);
    const childType = children[0].table(3);
    const precision = childType == null ? 0 : childType.i16(0, 0);
    if (childId != T_FLOAT || precision < 1 || children[0].field(4) != 0) return unsupported(t, err);
    const child = readField(children[0], err, depth + 1);
    if (child == null) return null;
    return DataType.fixedSizeList(size, child);
  }
  return unsupported(t, err);
}

function readField(f: FbTable, err: ParseError, depth: i32): Field | null {
  if (depth > MAX_NESTING) {
    err.fail("fields nested too deeply");
    return null;
  }
  const name = f.string(0);
  const nullable = f.u8(1, 0) != 0;
  const typeId = f.u8(2, 0);
  if (f.field(4) != 0) {
    unsupported(f, err);
    return null;
  }
  const childVec = f.vector(5, 4);
  const children: FbTable[] = [];
  for (let i = 0; i < childVec.length && f.buf.error == null; i++) {
    const c = f.tableIn(childVec, i);
    if (c != null) children.push(c);
  }
  if (f.buf.error != null) return null;
  const type = readType(f, typeId, children, err, depth);
  if (type == null || f.buf.error != null) return null;
  const field = new Field(name != null ? name : "", type, nullable);
  const meta = f.vector(6, 4);
  for (let i = 0; i < meta.length && f.buf.error == null; i++) {
    const kv = f.tableIn(meta, i);
    if (kv == null) break;
    const k = kv.string(0);
    const v = kv.string(1);
    field.withMetadata(k != null ? k : "", v != null ? v : "");
  }
  return field;
}

/** Cursor over a RecordBatch's nodes and buffers. */
class BatchCursor {
  node: i32 = 0;
  buffer: i32 = 0;

  constructor(
    public fb: FbBuf,
    public nodes: i32,
    public nodeCount: i32,
    public buffers: i32,
    public bufferCount: i32,
    public body: Uint8Array,
    public err: ParseError,
  ) {}

  nextNode(): i64[] {
    if (this.node >= this.nodeCount) {
      this.err.fail("record batch has fewer field nodes than the schema has fields");
      return [0, 0];
    }
    const at = this.nodes + 16 * this.node++;
    return [this.fb.i64(at), this.fb.i64(at + 8)];
  }

  /** The next buffer's bytes (a copy), checked to hold at least `need` bytes. */
  nextBuffer(need: i64, what: string): Uint8Array {
    if (this.buffer >= this.bufferCount) {
      this.err.fail(`record batch has too few buffers (missing ${what})`);
      return new Uint8Array(0);
    }
    const at = this.buffers + 16 * this.buffer++;
    const offset = this.fb.i64(at);
    const length = this.fb.i64(at + 8);
    if (offset < 0 || length < 0 || offset + length > <i64>this.body.length) {
      this.err.fail(`${what} buffer [${offset}, +${length}) lies outside the ${this.body.length}-byte body`);
      return new Uint8Array(0);
    }
    if (length < need) {
      this.err.fail(`${what} buffer holds ${length} bytes, needs ${need}`);
      return new Uint8Array(0);
    }
    return this.body.slice(<i32>offset, <i32>(offset + length));
  }
}

function readColumn(c: BatchCursor, type: DataType, expectLength: i64): Column | null {
  const node = c.nextNode();
  const length = node[0];
  const nullCount = node[1];
  if (c.err.message != null) return null;
  if (length < 0 || length > <i64>i32.MAX_VALUE / 16 || nullCount < 0 || nullCount > length) {
    c.err.fail(`field node length ${length} / null count ${nullCount} is invalid`);
    return null;
  }
  if (expectLength >= 0 && length < expectLength) {
    c.err.fail(`field node has ${length} rows, expected ${expectLength}`);
    return null;
  }
  const n = <i32>length;
  const col = new Column(type, n);
  col.nullCount = <i32>nullCount;
  const validity = c.nextBuffer(nullCount > 0 ? <i64>((n + 7) >> 3) : 0, "validity");
  if (nullCount > 0) col.validity = validity;
  if (type.isVariable) {
    const large = type.id == TypeId.LargeUtf8;
    const raw = c.nextBuffer(<i64>(n + 1) * (large ? 8 : 4), "offsets");
    const data = c.nextBuffer(0, "data");
    if (c.err.message != null) return null;
    const offsets = new Int32Array(n + 1);
    let prev: i64 = 0;
    for (let i = 0; i <= n; i++) {
      const o: i64 = large ? load<i64>(raw.dataStart + (<usize>i << 3)) : <i64>load<i32>(raw.dataStart + (<usize>i << 2));
      if (o < prev || o > <i64>data.length || (i == 0 && o < 0)) {
        c.err.fail(`offset ${o} at row ${i} is out of order or past the ${data.length}-byte data buffer`);
        return null;
      }
      unchecked((offsets[i] = <i32>o));
      prev = o;
    }
    if (type.id != TypeId.Binary) {
      for (let i = 0; i < n; i++) {
        if (!col.isNull(i) && !isValidUtf8(data, offsets[i], offsets[i + 1])) {
          c.err.fail(`Utf8 value at row ${i} is not valid UTF-8`);
          return null;
        }
      }
    }
    col.offsets = offsets;
    col.data = data;
  } else if (type.id == TypeId.FixedSizeList) {
    const child = readColumn(c, changetype<Field>(type.child).type, <i64>n * type.width);
    if (child == null) return null;
    col.child = child;
  } else {
    col.data = c.nextBuffer(<i64>n * type.fixedWidth, "values");
  }
  return c.err.message != null ? null : col;
}

/** Parses an Arrow IPC stream with exactly one field. */
export function readIpc(bytes: Uint8Array): Result<ArrowStream> {
  const r = new ByteReader(bytes);
  let stream: ArrowStream | null = null;
  const err = new ParseError();
  while (r.remaining > 0) {
    let len = <i32>bswap<u32>(r.u32be("message length"));
    if (<u32>len == 0xffffffff) len = <i32>bswap<u32>(r.u32be("message length"));
    if (r.failed) return bad(changetype<string>(r.error));
    if (len == 0) break; // end-of-stream marker
    if (len < 0 || len > r.remaining) return bad(`message metadata of ${len} bytes but ${r.remaining} left`);
    const fb = new FbBuf(r.take(len, "message"));
    const msg = fb.tableAt(0);
    if (msg == null) return bad(changetype<string>(fb.error));
    const headerType = msg.u8(1, 0);
    const bodyLength = msg.i64(3, 0);
    if (fb.error != null) return bad(changetype<string>(fb.error));
    if (bodyLength < 0 || bodyLength > <i64>r.remaining) {
      return bad(`message body of ${bodyLength} bytes but ${r.remaining} left`);
    }
    const body = r.take(<i32>bodyLength, "body");
    const header = msg.table(2);
    if (header == null) return bad(fb.error != null ? changetype<string>(fb.error) : "message without header");
    if (headerType == HEADER_SCHEMA) {
      if (stream != null) return bad("a second Schema message");
      const fields = header.vector(1, 4);
      if (fb.error != null) return bad(changetype<string>(fb.error));
      if (fields.length != 1) return bad(`the schema has ${max(fields.length, 0)} fields; a logical-type column crosses as exactly one`);
      const ft = header.tableIn(fields, 0);
      let field: Field | null = null;
      if (ft != null) field = readField(ft, err, 0);
      if (fb.error != null) return bad(changetype<string>(fb.error));
      if (field == null) return bad(err.message != null ? changetype<string>(err.message) : "unreadable field");
      stream = new ArrowStream(changetype<Field>(field));
    } else if (headerType == HEADER_RECORD_BATCH) {
      if (stream == null) return bad("a RecordBatch before the Schema");
      const compression = header.table(3);
      if (compression != null) {
        const codec = compression.u8(0, 0);
        const name = codec < <u32>CODECS.length ? CODECS[codec] : `codec ${codec}`;
        return Result.err<ArrowStream>(
          malformed(
            `record batch ${stream.batches.length} is compressed (${name}); this plugin reads uncompressed Arrow IPC only: write the stream without compression`,
          ),
        );
      }
      const rows = header.i64(0, 0);
      const nodes = header.vector(1, 16);
      const buffers = header.vector(2, 16);
      if (fb.error != null) return bad(changetype<string>(fb.error));
      const c = new BatchCursor(fb, nodes.start, max(nodes.length, 0), buffers.start, max(buffers.length, 0), body, err);
      const col = readColumn(c, stream.field.type, -1);
      if (fb.error != null) return bad(changetype<string>(fb.error));
      if (col == null) return bad(err.message != null ? changetype<string>(err.message) : "unreadable record batch");
      if (<i64>col.length != rows) return bad(`record batch says ${rows} rows but its column has ${col.length}`);
      stream.batches.push(col);
    } else if (headerType == HEADER_DICTIONARY) {
      return bad("dictionary batches are not supported");
    } else {
      return bad(`message header type ${headerType} is not supported`);
    }
  }
  if (r.failed) return bad(changetype<string>(r.error));
  if (stream == null) return bad("no Schema message");
  return Result.ok<ArrowStream>(stream);
}

// ---- writing -----------------------------------------------------------------

function typeNode(t: DataType): FbTableNode {
  const n = new FbTableNode();
  if (t.id == TypeId.FixedSizeBinary || t.id == TypeId.FixedSizeList) n.scalar(0, 4, t.width);
  else if (t.id == TypeId.Float64) n.scalar(0, 2, 2);
  else if (t.id == TypeId.Float32) n.scalar(0, 2, 1);
  else if (t.id == TypeId.Int64) {
    n.scalar(0, 4, 64);
    n.scalar(1, 1, 1);
  }
  return n;
}

function typeUnionId(t: DataType): u32 {
  switch (t.id) {
    case TypeId.Utf8:
      return T_UTF8;
    case TypeId.LargeUtf8:
      return T_LARGE_UTF8;
    case TypeId.Binary:
      return T_BINARY;
    case TypeId.FixedSizeBinary:
      return T_FIXED_SIZE_BINARY;
    case TypeId.FixedSizeList:
      return T_FIXED_SIZE_LIST;
    case TypeId.Int64:
      return T_INT;
    default:
      return T_FLOAT;
  }
}

function fieldNode(f: Field): FbTableNode {
  const n = new FbTableNode();
  n.offset(0, new FbStringNode(f.name));
  n.scalar(1, 1, f.nullable ? 1 : 0);
  n.scalar(2, 1, typeUnionId(f.type));
  n.offset(3, typeNode(f.type));
  const children: FbNode[] = [];
  if (f.type.child != null) children.push(fieldNode(changetype<Field>(f.type.child)));
  n.offset(5, new FbOffsetVector(children));
  if (f.metadataKeys.length > 0) {
    const kvs: FbNode[] = [];
    for (let i = 0; i < f.metadataKeys.length; i++) {
      kvs.push(
        new FbTableNode().offset(0, new FbStringNode(f.metadataKeys[i])).offset(1, new FbStringNode(f.metadataValues[i])),
      );
    }
    n.offset(6, new FbOffsetVector(kvs));
  }
  return n;
}

function writeMessage(out: ByteWriter, headerType: u32, header: FbTableNode, body: Uint8Array): void {
  const msg = new FbTableNode()
    .scalar(0, 2, METADATA_V5)
    .scalar(1, 1, headerType)
    .offset(2, header)
    .scalar(3, 8, body.length);
  const meta = fbFinish(msg);
  const padded = (meta.length + 7) & ~7;
  out.u32le(0xffffffff);
  out.u32le(<u32>padded);
  out.bytes(meta);
  out.zeros(padded - meta.length);
  out.bytes(body);
}

class BodyWriter {
  body: ByteWriter = new ByteWriter(256);
  nodes: ByteWriter = new ByteWriter();
  buffers: ByteWriter = new ByteWriter();
  nodeCount: i32 = 0;
  bufferCount: i32 = 0;

  buffer(bytes: Uint8Array | null, length: i32): void {
    const offset = this.body.length;
    const n = bytes == null ? 0 : min(length, bytes.length);
    if (bytes != null && n > 0) {
      this.body.ensure(n);
      memory.copy(this.body.buf.dataStart + offset, bytes.dataStart, n);
      this.body.length += n;
    }
    this.body.align(8);
    this.buffers.u64le(<u64>offset);
    this.buffers.u64le(<u64>n);
    this.bufferCount++;
  }

  column(c: Column): void {
    this.nodes.u64le(<u64>c.length);
    this.nodes.u64le(<u64>c.nullCount);
    this.nodeCount++;
    this.buffer(c.nullCount > 0 ? c.validity : null, (c.length + 7) >> 3);
    const t = c.type;
    if (t.id == TypeId.LargeUtf8) {
      const o = changetype<Int32Array>(c.offsets);
      const wide = new Uint8Array((c.length + 1) * 8);
      for (let i = 0; i <= c.length; i++) store<i64>(wide.dataStart + (<usize>i << 3), <i64>unchecked(o[i]));
      this.buffer(wide, wide.length);
      this.buffer(c.data, c.data.length);
    } else if (t.isVariable) {
      const o = changetype<Int32Array>(c.offsets);
      this.buffer(Uint8Array.wrap(o.buffer, o.byteOffset, o.byteLength), (c.length + 1) * 4);
      this.buffer(c.data, c.data.length);
    } else if (t.id == TypeId.FixedSizeList) {
      this.column(changetype<Column>(c.child));
    } else {
      this.buffer(c.data, c.length * t.fixedWidth);
    }
  }
}

/** Serializes a stream: schema, one record batch per column, end-of-stream marker. */
export function writeIpc(stream: ArrowStream): Uint8Array {
  const out = new ByteWriter(1024);
  const schema = new FbTableNode().scalar(0, 2, 0).offset(1, new FbOffsetVector([changetype<FbNode>(fieldNode(stream.field))]));
  writeMessage(out, HEADER_SCHEMA, schema, new Uint8Array(0));
  for (let i = 0; i < stream.batches.length; i++) {
    const col = stream.batches[i];
    const w = new BodyWriter();
    w.column(col);
    const batch = new FbTableNode()
      .scalar(0, 8, col.length)
      .offset(1, new FbStructVector(w.nodeCount, w.nodes.finish()))
      .offset(2, new FbStructVector(w.bufferCount, w.buffers.finish()));
    writeMessage(out, HEADER_RECORD_BATCH, batch, w.body.finish());
  }
  out.u32le(0xffffffff);
  out.u32le(0);
  return out.finish();
}

