/**
 * Tables and record batches from another copy of apache-arrow (a second
 * install of the same version, as bundlers produce). They pass apache-arrow's
 * own `instanceof` (it compares `Symbol.for` markers), but this copy's writer
 * reads their internals through its own classes and writes bytes no reader
 * can read. So they are rebuilt here, structurally, from what every copy
 * exposes — type ids and parameters, fields, and each Data's buffers — into
 * this copy's classes; the buffers are shared, not copied.
 *
 * @module
 */
import {
  Binary,
  BinaryView,
  Bool,
  Data,
  type DataType,
  Date_,
  Decimal,
  Dictionary,
  Duration,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float,
  Int,
  Interval,
  LargeBinary,
  LargeList,
  LargeUtf8,
  List,
  Map_,
  makeVector,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Time,
  Timestamp,
  Type,
  Union,
  Utf8,
  Utf8View,
  type Vector,
} from "apache-arrow";

/** Something this host cannot rebuild: the message names the column and the type. */
export class ForeignArrowError extends Error {
  override name = "ForeignArrowError";
}

/** Whether `value` is an apache-arrow Table made by another copy of the library. */
export function isForeignTable(value: unknown): boolean {
  return Table.isTable(value) && !Object.prototype.isPrototypeOf.call(Table.prototype, value);
}

export function isForeignRecordBatch(value: unknown): boolean {
  return RecordBatch.isRecordBatch(value) && !Object.prototype.isPrototypeOf.call(RecordBatch.prototype, value);
}

// Structural views of what another copy's objects hold (their classes are not ours).
interface ForeignType {
  typeId: number;
  toString(): string;
  [key: string]: unknown;
}
interface ForeignField {
  name: string;
  type: ForeignType;
  nullable: boolean;
  metadata?: Map<string, string>;
}
interface ForeignData {
  type: ForeignType;
  offset: number;
  length: number;
  nullCount: number;
  values?: unknown;
  valueOffsets?: unknown;
  nullBitmap?: unknown;
  typeIds?: unknown;
  children?: ForeignData[];
  dictionary?: { data: ForeignData[] };
  variadicBuffers?: readonly Uint8Array[];
}
interface ForeignBatch {
  schema: { fields: ForeignField[]; metadata?: Map<string, string> };
  data: ForeignData;
}

/**
 * Rebuilds a Table of another apache-arrow copy in this one.
 *
 * # Errors
 * `ForeignArrowError` naming the column and type when a type cannot be rebuilt.
 */
export function adoptTable(foreign: unknown): Table {
  const t = foreign as { schema: ForeignBatch["schema"]; batches: ForeignBatch[] };
  const schema = adoptSchema(t.schema);
  const batches = Array.from(t.batches, (b) => adoptBatchWith(schema, b));
  return new Table(schema, batches);
}

export function adoptRecordBatch(foreign: unknown): RecordBatch {
  const b = foreign as ForeignBatch;
  return adoptBatchWith(adoptSchema(b.schema), b);
}

function adoptSchema(schema: ForeignBatch["schema"]): Schema {
  const fields = Array.from(schema.fields, (f) => adoptField(f, f.name));
  return new Schema(fields, new Map(schema.metadata ?? []));
}

function adoptBatchWith(schema: Schema, batch: ForeignBatch): RecordBatch {
  const children = Array.from(batch.data.children ?? [], (child, i) =>
    adoptData(child, schema.fields[i]?.type as DataType, schema.fields[i]?.name ?? `#${i}`),
  );
  const data = new Data(new Struct(schema.fields), 0, batch.data.length, 0, undefined, children);
  return new RecordBatch(schema, data);
}

function adoptField(field: ForeignField, path: string): Field {
  return new Field(field.name, adoptType(field.type, path), field.nullable, new Map(field.metadata ?? []));
}

function childFields(type: ForeignType, path: string): Field[] {
  const children = (type.children ?? []) as ForeignField[];
  return Array.from(children, (c) => adoptField(c, `${path}.${c.name}`));
}

function firstChild(type: ForeignType, path: string): Field {
  const child = childFields(type, path)[0];
  if (!child) throw new ForeignArrowError(`column '${path}' (${String(type)}) has no child field`);
  return child;
}

function adoptType(type: ForeignType, path: string): DataType {
  const p = type as Record<string, unknown>;
  switch (type.typeId) {
    case Type.Null:
      return new Null();
    case Type.Int:
      return new Int(p.isSigned as boolean, p.bitWidth as 8 | 16 | 32 | 64);
    case Type.Float:
      return new Float(p.precision as number);
    case Type.Binary:
      return new Binary();
    case Type.LargeBinary:
      return new LargeBinary();
    case Type.Utf8:
      return new Utf8();
    case Type.LargeUtf8:
      return new LargeUtf8();
    case Type.BinaryView:
      return new BinaryView();
    case Type.Utf8View:
      return new Utf8View();
    case Type.Bool:
      return new Bool();
    case Type.Decimal:
      return new Decimal(p.scale as number, p.precision as number, p.bitWidth as number);
    case Type.Date:
      return new Date_(p.unit as number);
    case Type.Time:
      return new Time(p.unit as number, p.bitWidth as 32 | 64);
    case Type.Timestamp:
      return new Timestamp(p.unit as number, (p.timezone as string | null | undefined) ?? null);
    case Type.Interval:
      return new Interval(p.unit as number);
    case Type.Duration:
      return new Duration(p.unit as number);
    case Type.List:
      return new List(firstChild(type, path));
    case Type.LargeList:
      return new LargeList(firstChild(type, path));
    case Type.FixedSizeList:
      return new FixedSizeList(p.listSize as number, firstChild(type, path));
    case Type.FixedSizeBinary:
      return new FixedSizeBinary(p.byteWidth as number);
    case Type.Struct:
      return new Struct(childFields(type, path));
    case Type.Map:
      return new Map_(firstChild(type, path) as Field<Struct>, p.keysSorted as boolean);
    case Type.Union:
      return new Union(p.mode as number, Array.from(p.typeIds as ArrayLike<number>), childFields(type, path));
    case Type.Dictionary:
      return new Dictionary(
        adoptType(p.dictionary as ForeignType, path),
        adoptType(p.indices as ForeignType, path) as never,
        p.id as number,
        p.isOrdered as boolean,
      );
    default:
      throw new ForeignArrowError(`column '${path}' is ${String(type)}, which this host cannot rebuild`);
  }
}

function adoptData(data: ForeignData, type: DataType, path: string): Data {
  const children = Array.from(data.children ?? [], (child, i) => {
    const childType = (type.children?.[i]?.type ?? adoptType(child.type, path)) as DataType;
    return adoptData(child, childType, `${path}.${type.children?.[i]?.name ?? i}`);
  });
  let dictionary: Vector | undefined;
  if (data.dictionary) {
    const valueType = (type as Dictionary).dictionary;
    dictionary = makeVector(Array.from(data.dictionary.data, (d) => adoptData(d, valueType, path)));
  }
  const buffers = [data.valueOffsets, data.values, data.nullBitmap, data.typeIds] as never;
  return new Data(
    type,
    data.offset,
    data.length,
    data.nullCount,
    buffers,
    children,
    dictionary,
    data.variadicBuffers ?? [],
  );
}
