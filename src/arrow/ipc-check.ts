/**
 * Checks Arrow IPC bytes before apache-arrow decodes them: message framing,
 * metadata, and every declared length (message, body, buffer, field node)
 * against the bytes actually there. apache-arrow trusts those lengths and
 * allocates by them, so a stream with one length field changed could make it
 * allocate gigabytes; after this check, what it allocates is bounded by the
 * input's size.
 *
 * @module
 */
import { FbBuffer, type FbTable, type FbVector, IpcMalformed, IpcUnsupported } from "./flatbuffer.ts";
import { type FieldInfo, readFields, TypeId, typeName } from "./schema.ts";

const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;
/** MetadataVersion V4 and V5: what apache-arrow reads. */
const V4 = 3;
const V5 = 4;
const CODECS = ["LZ4_FRAME", "ZSTD"];
/** apache-arrow keeps lengths in 32-bit arithmetic in places; nothing longer is accepted. */
export const MAX_LENGTH = 2 ** 31 - 1;
const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** What a successful check learned. */
export interface IpcSummary {
  fields: FieldInfo[];
  batches: number;
  rows: number;
}

/**
 * Checks a whole IPC stream or file.
 *
 * # Errors
 * `IpcMalformed` for bytes that are not a well-formed stream, `IpcUnsupported`
 * for well-formed ones this host does not read (compressed bodies, types
 * apache-arrow has no reader for).
 */
export function checkIpc(bytes: Uint8Array): IpcSummary {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const state: StreamState = { fields: null, version: V5, dictionaries: new Map(), batches: 0, rows: 0 };
  if (isFile(bytes)) checkFile(view, state);
  else checkStream(view, 0, bytes.length, state);
  if (state.fields === null) throw new IpcMalformed(`no schema message in ${bytes.length} bytes`);
  return { fields: state.fields, batches: state.batches, rows: state.rows };
}

interface StreamState {
  fields: FieldInfo[] | null;
  version: number;
  /** Dictionary id → the field whose values it holds (the dictionary's value type). */
  dictionaries: Map<number, FieldInfo>;
  batches: number;
  rows: number;
}

function isFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && FILE_MAGIC.every((b, i) => bytes[i] === b);
}

function checkStream(view: DataView, from: number, to: number, state: StreamState): void {
  let pos = from;
  while (pos < to) {
    const next = checkMessage(view, pos, to, state);
    if (next < 0) return; // end-of-stream marker
    pos = next;
  }
}

/** Checks the message at `pos`; returns where the next one starts, or -1 at the end-of-stream marker. */
function checkMessage(view: DataView, pos: number, to: number, state: StreamState): number {
  if (pos + 4 > to) throw new IpcMalformed(`truncated message header at byte ${pos}`);
  let length = view.getInt32(pos, true);
  pos += 4;
  if (length === -1) {
    // continuation marker (format 0.15+), then the metadata length
    if (pos + 4 > to) throw new IpcMalformed(`truncated message length at byte ${pos}`);
    length = view.getInt32(pos, true);
    pos += 4;
  }
  if (length === 0) return -1;
  if (length < 0 || pos + length > to) {
    throw new IpcMalformed(`message metadata of ${length} bytes at byte ${pos} runs past the end (${to} bytes)`);
  }
  const buf = new FbBuffer(view, pos, pos + length);
  const message = buf.root();
  const version = message.i16(0, 0);
  if (version !== V4 && version !== V5) {
    throw new IpcMalformed(`message at byte ${pos - 8} has metadata version ${version + 1} (expected V4 or V5)`);
  }
  const bodyStart = pos + length;
  const bodyLength = message.i64(3, 0, "message body length");
  if (bodyLength < 0 || bodyStart + bodyLength > to) {
    throw new IpcMalformed(
      `message body of ${bodyLength} bytes at byte ${bodyStart} runs past the end (${to - bodyStart} bytes left)`,
    );
  }
  const header = message.table(2);
  if (header === null) throw new IpcMalformed(`message at byte ${pos} has no header`);
  const headerType = message.u8(1, 0);
  const body = new DataView(view.buffer, view.byteOffset + bodyStart, bodyLength);
  switch (headerType) {
    case HEADER_SCHEMA:
      if (state.fields !== null) throw new IpcMalformed("a second schema message");
      state.version = version;
      state.fields = readFields(header);
      collectDictionaries(state.fields, state.dictionaries);
      break;
    case HEADER_RECORD_BATCH: {
      if (state.fields === null) throw new IpcMalformed("a record batch before the schema");
      const rows = checkBatch(header, body, state.fields, state, `record batch ${state.batches}`);
      state.batches++;
      state.rows += rows;
      break;
    }
    case HEADER_DICTIONARY_BATCH: {
      if (state.fields === null) throw new IpcMalformed("a dictionary batch before the schema");
      const id = header.i64(0, 0, "dictionary id");
      const field = state.dictionaries.get(id);
      if (!field) throw new IpcMalformed(`a dictionary batch for id ${id}, which no column uses`);
      const data = header.table(1);
      if (data === null) throw new IpcMalformed(`dictionary batch ${id} has no data`);
      const { dictionary: _, ...values } = field;
      checkBatch(data, body, [values], state, `dictionary batch ${id}`);
      break;
    }
    default:
      throw new IpcUnsupported(`message type ${headerType} (only Schema, RecordBatch and DictionaryBatch are read)`);
  }
  return bodyStart + bodyLength;
}

function collectDictionaries(fields: FieldInfo[], into: Map<number, FieldInfo>): void {
  for (const f of fields) {
    if (f.dictionary) into.set(f.dictionary.id, f);
    collectDictionaries(f.children, into);
  }
}

/** The file format: magic, the messages, a footer naming where each block is, its length, magic. */
function checkFile(view: DataView, state: StreamState): void {
  const size = view.byteLength;
  if (size < 18) throw new IpcMalformed(`an Arrow file of ${size} bytes is too short`);
  for (let i = 0; i < 6; i++) {
    if (view.getUint8(size - 6 + i) !== FILE_MAGIC[i]) throw new IpcMalformed("the Arrow file does not end in ARROW1");
  }
  const footerLength = view.getInt32(size - 10, true);
  const footerStart = size - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) {
    throw new IpcMalformed(`the Arrow file's footer of ${footerLength} bytes does not fit in ${size} bytes`);
  }
  const footer = new FbBuffer(view, footerStart, size - 10).root();
  const schema = footer.table(1);
  if (schema === null) throw new IpcMalformed("the Arrow file's footer has no schema");
  state.version = footer.i16(0, V5);
  state.fields = readFields(schema);
  collectDictionaries(state.fields, state.dictionaries);
  // apache-arrow's file reader goes by the footer's blocks: check each one's message in place.
  for (const slot of [2, 3]) {
    const blocks = footer.vector(slot, 24);
    if (!blocks) continue;
    for (let i = 0; i < blocks.length; i++) {
      const at = blocks.start + 24 * i;
      const offset = footer.buf.i64(at, "block offset");
      const metaLength = footer.buf.i32(at + 8);
      const bodyLength = footer.buf.i64(at + 16, "block body length");
      const end = offset + metaLength + bodyLength;
      if (offset < 8 || metaLength <= 0 || bodyLength < 0 || end > footerStart) {
        throw new IpcMalformed(`block ${i} of the Arrow file [${offset}, ${end}) lies outside its data`);
      }
      // A block holds a batch; a schema message there is refused as a second schema.
      checkMessage(view, offset, end, state);
    }
  }
}

/** Walks a record batch's field nodes and buffers in schema order. */
class BatchCursor {
  private node = 0;
  private buffer = 0;
  private variadic = 0;
  private readonly header: FbTable;
  private readonly body: DataView;
  private readonly nodes: FbVector;
  private readonly buffers: FbVector;
  private readonly variadicCounts: FbVector | null;
  private readonly where: string;

  constructor(header: FbTable, body: DataView, where: string) {
    this.header = header;
    this.body = body;
    this.where = where;
    this.nodes = header.vector(1, 16) ?? { start: 0, length: 0 };
    this.buffers = header.vector(2, 16) ?? { start: 0, length: 0 };
    this.variadicCounts = header.vector(4, 8);
  }

  nextNode(column: string): { length: number; nulls: number } {
    if (this.node >= this.nodes.length) {
      throw new IpcMalformed(`${this.where} has too few field nodes for column '${column}'`);
    }
    const at = this.nodes.start + 16 * this.node++;
    const length = this.header.buf.i64(at, `length of column '${column}'`);
    const nulls = this.header.buf.i64(at + 8, `null count of column '${column}'`);
    if (length < 0 || length > MAX_LENGTH || nulls < 0 || nulls > length) {
      throw new IpcMalformed(`${this.where}: column '${column}' has length ${length} and null count ${nulls}`);
    }
    return { length, nulls };
  }

  /** The next buffer as a view into the body, after checking it lies inside it. */
  nextBuffer(column: string, what: string): DataView {
    if (this.buffer >= this.buffers.length) {
      throw new IpcMalformed(`${this.where} has too few buffers for column '${column}' (${what})`);
    }
    const at = this.buffers.start + 16 * this.buffer++;
    const offset = this.header.buf.i64(at, `${what} offset of column '${column}'`);
    const length = this.header.buf.i64(at + 8, `${what} length of column '${column}'`);
    if (offset < 0 || length < 0 || offset + length > this.body.byteLength) {
      throw new IpcMalformed(
        `${this.where}: the ${what} buffer of column '${column}' [${offset}, +${length}) lies outside the ${this.body.byteLength}-byte body`,
      );
    }
    return new DataView(this.body.buffer, this.body.byteOffset + offset, length);
  }

  nextVariadicCount(column: string): number {
    if (!this.variadicCounts || this.variadic >= this.variadicCounts.length) {
      throw new IpcMalformed(`${this.where} has no variadic buffer count for column '${column}'`);
    }
    return this.header.buf.i64(this.variadicCounts.start + 8 * this.variadic++, "variadic buffer count");
  }
}

/** Checks one RecordBatch table against `fields`; returns its row count. */
function checkBatch(header: FbTable, body: DataView, fields: FieldInfo[], state: StreamState, where: string): number {
  const compression = header.table(3);
  if (compression) {
    const codec = compression.u8(0, 0);
    throw new IpcUnsupported(
      `${where} is compressed (${CODECS[codec] ?? `codec ${codec}`}); this host reads uncompressed Arrow IPC only`,
    );
  }
  const rows = header.i64(0, 0, `${where} length`);
  if (rows < 0 || rows > MAX_LENGTH) throw new IpcMalformed(`${where} has length ${rows}`);
  const cursor = new BatchCursor(header, body, where);
  for (const field of fields) {
    const length = checkColumn(cursor, field, field.name, state.version, where);
    if (length !== rows) {
      throw new IpcMalformed(`${where}: column '${field.name}' has ${length} rows, the batch ${rows}`);
    }
  }
  return rows;
}

/** Checks one column (and its children); returns its length. */
function checkColumn(c: BatchCursor, field: FieldInfo, path: string, version: number, where: string): number {
  const { length, nulls } = c.nextNode(path);
  const type = () => typeName(field);
  const need = (buf: DataView, bytes: number, what: string) => {
    if (buf.byteLength < bytes) {
      throw new IpcMalformed(
        `${where}: column '${path}' (${type()}) has a ${what} buffer of ${buf.byteLength} bytes; ${length} rows need ${bytes}`,
      );
    }
  };
  const validity = () => {
    const buf = c.nextBuffer(path, "validity");
    if (nulls > 0) need(buf, Math.ceil(length / 8), "validity");
  };
  const fixed = (width: number) => {
    validity();
    need(c.nextBuffer(path, "values"), length * width, "values");
  };
  if (field.dictionary) {
    fixed(field.dictionary.indexBits / 8);
    return length;
  }
  const p = field.params;
  switch (field.typeId) {
    case TypeId.Null:
      break;
    case TypeId.Int:
    case TypeId.Time:
    case TypeId.Decimal:
      fixed((p.bitWidth ?? 0) / 8);
      break;
    case TypeId.FloatingPoint:
      fixed(2 << (p.precision ?? 0));
      break;
    case TypeId.Bool:
      validity();
      need(c.nextBuffer(path, "values"), Math.ceil(length / 8), "values");
      break;
    case TypeId.Date:
      fixed(p.unit === 0 ? 4 : 8);
      break;
    case TypeId.Timestamp:
    case TypeId.Duration:
      fixed(8);
      break;
    case TypeId.Interval:
      fixed([4, 8, 16][p.unit ?? 0] ?? 16);
      break;
    case TypeId.FixedSizeBinary:
      fixed(p.byteWidth ?? 0);
      break;
    case TypeId.Binary:
    case TypeId.Utf8:
    case TypeId.LargeBinary:
    case TypeId.LargeUtf8: {
      validity();
      const large = field.typeId === TypeId.LargeBinary || field.typeId === TypeId.LargeUtf8;
      const end = checkOffsets(
        c.nextBuffer(path, "offsets"),
        length,
        large,
        () => `column '${path}' (${type()})`,
        where,
      );
      need(c.nextBuffer(path, "data"), end, "data");
      break;
    }
    case TypeId.List:
    case TypeId.LargeList:
    case TypeId.Map: {
      validity();
      const large = field.typeId === TypeId.LargeList;
      const end = checkOffsets(
        c.nextBuffer(path, "offsets"),
        length,
        large,
        () => `column '${path}' (${type()})`,
        where,
      );
      childAtLeast(c, field, 0, end, path, version, where);
      break;
    }
    case TypeId.FixedSizeList:
      validity();
      childAtLeast(c, field, 0, length * (p.listSize ?? 0), path, version, where);
      break;
    case TypeId.Struct:
      validity();
      for (let i = 0; i < field.children.length; i++) childAtLeast(c, field, i, length, path, version, where);
      break;
    case TypeId.Union: {
      // V4 wrote a validity buffer for unions; V5 has none.
      if (version < V5) c.nextBuffer(path, "validity");
      need(c.nextBuffer(path, "type ids"), length, "type ids");
      const dense = p.unionMode === 1;
      if (dense) need(c.nextBuffer(path, "offsets"), length * 4, "offsets");
      for (let i = 0; i < field.children.length; i++)
        childAtLeast(c, field, i, dense ? 0 : length, path, version, where);
      break;
    }
    case TypeId.BinaryView:
    case TypeId.Utf8View: {
      validity();
      const views = c.nextBuffer(path, "views");
      need(views, length * 16, "views");
      const count = c.nextVariadicCount(path);
      const data: number[] = [];
      for (let i = 0; i < count; i++) data.push(c.nextBuffer(path, "variadic data").byteLength);
      checkViews(views, length, data, () => `column '${path}' (${type()})`, where);
      break;
    }
    default:
      throw new IpcUnsupported(`column '${path}' is ${type()}, which apache-arrow (and so this host) cannot read`);
  }
  return length;
}

function childAtLeast(
  c: BatchCursor,
  field: FieldInfo,
  index: number,
  atLeast: number,
  path: string,
  version: number,
  where: string,
): void {
  const child = field.children[index] as FieldInfo;
  const childPath = `${path}.${child.name}`;
  const length = checkColumn(c, child, childPath, version, where);
  if (length < atLeast) {
    throw new IpcMalformed(
      `${where}: column '${path}' (${typeName(field)}) needs ${atLeast} child values, '${childPath}' has ${length}`,
    );
  }
}

/**
 * Checks an offsets buffer (non-decreasing, from >= 0) and returns its last
 * offset: how many data bytes or child values the column reaches.
 */
function checkOffsets(buf: DataView, length: number, large: boolean, what: () => string, where: string): number {
  if (length === 0 && buf.byteLength === 0) return 0;
  const width = large ? 8 : 4;
  if (buf.byteLength < (length + 1) * width) {
    throw new IpcMalformed(
      `${where}: ${what()} has an offsets buffer of ${buf.byteLength} bytes; ${length} rows need ${(length + 1) * width}`,
    );
  }
  let previous = -1;
  for (let i = 0; i <= length; i++) {
    const o = large ? Number(buf.getBigInt64(i * 8, true)) : buf.getInt32(i * 4, true);
    if (o < 0 || o < previous || o > MAX_LENGTH) {
      throw new IpcMalformed(`${where}: ${what()} has offset ${o} at row ${i} (offsets must not decrease)`);
    }
    previous = o;
  }
  return previous;
}

/** Each view of more than 12 bytes points into a variadic data buffer: check it is inside one. */
function checkViews(views: DataView, length: number, data: number[], what: () => string, where: string): void {
  for (let i = 0; i < length; i++) {
    const size = views.getInt32(i * 16, true);
    if (size < 0) throw new IpcMalformed(`${where}: ${what()} has a view of ${size} bytes at row ${i}`);
    if (size <= 12) continue;
    const buffer = views.getInt32(i * 16 + 8, true);
    const offset = views.getInt32(i * 16 + 12, true);
    const available = data[buffer];
    if (available === undefined || offset < 0 || offset + size > available) {
      throw new IpcMalformed(`${where}: ${what()} has a view at row ${i} outside its data buffers`);
    }
  }
}
