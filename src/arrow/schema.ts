/**
 * The schema of an Arrow IPC stream read straight from its FlatBuffer
 * metadata (Schema.fbs), without apache-arrow: enough to name every type in
 * Arrow's own spelling (apache-arrow's `DataType.toString()`) and to know
 * each column's buffer layout before anything is decoded.
 *
 * @module
 */
import { type FbTable, IpcMalformed } from "./flatbuffer.ts";

/** Type ids of the `Type` union in Schema.fbs. */
export const TypeId = {
  Null: 1,
  Int: 2,
  FloatingPoint: 3,
  Binary: 4,
  Utf8: 5,
  Bool: 6,
  Decimal: 7,
  Date: 8,
  Time: 9,
  Timestamp: 10,
  Interval: 11,
  List: 12,
  Struct: 13,
  Union: 14,
  FixedSizeBinary: 15,
  FixedSizeList: 16,
  Map: 17,
  Duration: 18,
  LargeBinary: 19,
  LargeUtf8: 20,
  LargeList: 21,
  RunEndEncoded: 22,
  BinaryView: 23,
  Utf8View: 24,
  ListView: 25,
  LargeListView: 26,
} as const;

/** A field as the stream declares it. */
export interface FieldInfo {
  name: string;
  nullable: boolean;
  typeId: number;
  /** The type's parameters (bit width, unit, list size…), by Schema.fbs name. */
  params: TypeParams;
  children: FieldInfo[];
  /** Set when the column is dictionary-encoded: its buffers are the indices'. */
  dictionary?: { id: number; indexBits: number; indexSigned: boolean };
}

export interface TypeParams {
  bitWidth?: number;
  signed?: boolean;
  precision?: number;
  scale?: number;
  unit?: number;
  timezone?: string | null;
  byteWidth?: number;
  listSize?: number;
  unionMode?: number;
  unionTypeIds?: number[];
}

/** Nesting deeper than this is refused before it can exhaust the stack. */
export const MAX_DEPTH = 64;

const TIME_UNITS = ["SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"];
const DATE_UNITS = ["DAY", "MILLISECOND"];
const INTERVAL_UNITS = ["YEAR_MONTH", "DAY_TIME", "MONTH_DAY_NANO"];

/** The fields of a Schema table. */
export function readFields(schema: FbTable): FieldInfo[] {
  if (schema.i16(0, 0) !== 0) throw new IpcMalformed("big-endian Arrow data is not supported");
  const v = schema.vector(1, 4);
  const fields: FieldInfo[] = [];
  if (v) for (let i = 0; i < v.length; i++) fields.push(readField(schema.tableIn(v, i), 0, ""));
  return fields;
}

function readField(f: FbTable, depth: number, parent: string): FieldInfo {
  const name = f.string(0) ?? "";
  const path = parent ? `${parent}.${name}` : name;
  if (depth > MAX_DEPTH) throw new IpcMalformed(`column '${path}' is nested more than ${MAX_DEPTH} levels deep`);
  const typeId = f.u8(2, 0);
  const t = f.table(3);
  const params: TypeParams = {};
  switch (typeId) {
    case TypeId.Int:
      params.bitWidth = t?.i32(0, 0) ?? 0;
      params.signed = (t?.u8(1, 0) ?? 0) !== 0;
      if (![8, 16, 32, 64].includes(params.bitWidth)) {
        throw new IpcMalformed(`column '${path}' is an Int of ${params.bitWidth} bits`);
      }
      break;
    case TypeId.FloatingPoint:
      params.precision = t?.i16(0, 0) ?? 0;
      if (params.precision < 0 || params.precision > 2) {
        throw new IpcMalformed(`column '${path}' has floating-point precision ${params.precision}`);
      }
      break;
    case TypeId.Decimal:
      params.precision = t?.i32(0, 0) ?? 0;
      params.scale = t?.i32(1, 0) ?? 0;
      params.bitWidth = t?.i32(2, 128) ?? 128;
      if (![32, 64, 128, 256].includes(params.bitWidth)) {
        throw new IpcMalformed(`column '${path}' is a Decimal of ${params.bitWidth} bits`);
      }
      break;
    case TypeId.Date:
      params.unit = t?.i16(0, 1) ?? 1;
      if (params.unit !== 0 && params.unit !== 1)
        throw new IpcMalformed(`column '${path}' has date unit ${params.unit}`);
      break;
    case TypeId.Time:
      params.unit = t?.i16(0, 1) ?? 1;
      params.bitWidth = t?.i32(1, 32) ?? 32;
      if (params.bitWidth !== 32 && params.bitWidth !== 64) {
        throw new IpcMalformed(`column '${path}' is a Time of ${params.bitWidth} bits`);
      }
      checkUnit(params.unit, TIME_UNITS, path);
      break;
    case TypeId.Timestamp:
      params.unit = t?.i16(0, 0) ?? 0;
      params.timezone = t?.string(1) ?? null;
      checkUnit(params.unit, TIME_UNITS, path);
      break;
    case TypeId.Duration:
      params.unit = t?.i16(0, 1) ?? 1;
      checkUnit(params.unit, TIME_UNITS, path);
      break;
    case TypeId.Interval:
      params.unit = t?.i16(0, 0) ?? 0;
      checkUnit(params.unit, INTERVAL_UNITS, path);
      break;
    case TypeId.FixedSizeBinary:
      params.byteWidth = t?.i32(0, 0) ?? 0;
      if (params.byteWidth < 0) throw new IpcMalformed(`column '${path}' has byte width ${params.byteWidth}`);
      break;
    case TypeId.FixedSizeList:
      params.listSize = t?.i32(0, 0) ?? 0;
      if (params.listSize < 0) throw new IpcMalformed(`column '${path}' has list size ${params.listSize}`);
      break;
    case TypeId.Union: {
      params.unionMode = t?.i16(0, 0) ?? 0;
      const ids = t?.vector(1, 4);
      params.unionTypeIds = [];
      if (t && ids) for (let i = 0; i < ids.length; i++) params.unionTypeIds.push(t.buf.i32(ids.start + 4 * i));
      break;
    }
    default:
      if (typeId === 0 || typeId > TypeId.LargeListView) {
        throw new IpcMalformed(`column '${path}' has type id ${typeId}, which is not an Arrow type`);
      }
  }
  const childVector = f.vector(5, 4);
  const children: FieldInfo[] = [];
  if (childVector) {
    for (let i = 0; i < childVector.length; i++) children.push(readField(f.tableIn(childVector, i), depth + 1, path));
  }
  checkChildren(typeId, children.length, path);
  const field: FieldInfo = { name, nullable: f.u8(1, 0) !== 0, typeId, params, children };
  const dict = f.table(4);
  if (dict) {
    const index = dict.table(1);
    const indexBits = index?.i32(0, 32) ?? 32;
    if (![8, 16, 32, 64].includes(indexBits)) {
      throw new IpcMalformed(`column '${path}' has dictionary indices of ${indexBits} bits`);
    }
    field.dictionary = {
      id: dict.i64(0, 0, `column '${path}' dictionary id`),
      indexBits,
      indexSigned: (index?.u8(1, 1) ?? 1) !== 0,
    };
  }
  return field;
}

function checkUnit(unit: number, names: readonly string[], path: string): void {
  if (unit < 0 || unit >= names.length) throw new IpcMalformed(`column '${path}' has time unit ${unit}`);
}

/** How many child fields each nested type has; the rest have none. */
function checkChildren(typeId: number, count: number, path: string): void {
  const one = [TypeId.List, TypeId.LargeList, TypeId.FixedSizeList, TypeId.Map, TypeId.ListView, TypeId.LargeListView];
  let ok = true;
  if ((one as number[]).includes(typeId)) ok = count === 1;
  else if (typeId === TypeId.RunEndEncoded) ok = count === 2;
  else if (typeId !== TypeId.Struct && typeId !== TypeId.Union) ok = count === 0;
  if (!ok)
    throw new IpcMalformed(
      `column '${path}' (${typeName({ typeId, params: {}, children: [] })}) has ${count} child fields`,
    );
}

/** The type in apache-arrow's `DataType.toString()` spelling, e.g. `LargeList<Float32>`, `FixedSizeList[4]<Float32>`. */
export function typeName(field: Pick<FieldInfo, "typeId" | "params" | "children" | "dictionary">): string {
  const value = valueTypeName(field);
  const d = field.dictionary;
  return d ? `Dictionary<${d.indexSigned ? "I" : "Ui"}nt${d.indexBits}, ${value}>` : value;
}

function valueTypeName(field: Pick<FieldInfo, "typeId" | "params" | "children">): string {
  const p = field.params;
  const child = (i: number) => {
    const c = field.children[i];
    return c ? typeName(c) : "?";
  };
  const members = () => field.children.map((c) => `${c.name}:${typeName(c)}`).join(", ");
  switch (field.typeId) {
    case TypeId.Null:
      return "Null";
    case TypeId.Int:
      return `${p.signed ? "I" : "Ui"}nt${p.bitWidth}`;
    case TypeId.FloatingPoint:
      return `Float${(p.precision ?? 0) << 5 || 16}`;
    case TypeId.Binary:
      return "Binary";
    case TypeId.Utf8:
      return "Utf8";
    case TypeId.Bool:
      return "Bool";
    case TypeId.Decimal:
      return `Decimal[${p.precision}e${(p.scale ?? 0) > 0 ? "+" : ""}${p.scale}]`;
    case TypeId.Date:
      return `Date${((p.unit ?? 0) + 1) * 32}<${DATE_UNITS[p.unit ?? 0]}>`;
    case TypeId.Time:
      return `Time${p.bitWidth}<${TIME_UNITS[p.unit ?? 0]}>`;
    case TypeId.Timestamp:
      return `Timestamp<${TIME_UNITS[p.unit ?? 0]}${p.timezone ? `, ${p.timezone}` : ""}>`;
    case TypeId.Interval:
      return `Interval<${INTERVAL_UNITS[p.unit ?? 0]}>`;
    case TypeId.Duration:
      return `Duration<${TIME_UNITS[p.unit ?? 0]}>`;
    case TypeId.List:
      return `List<${child(0)}>`;
    case TypeId.LargeList:
      return `LargeList<${child(0)}>`;
    case TypeId.Struct:
      return `Struct<{${members()}}>`;
    case TypeId.Union:
      return `Union<${field.children.map((c) => typeName(c)).join(" | ")}>`;
    case TypeId.FixedSizeBinary:
      return `FixedSizeBinary[${p.byteWidth}]`;
    case TypeId.FixedSizeList:
      return `FixedSizeList[${p.listSize}]<${child(0)}>`;
    case TypeId.Map: {
      const entries = field.children[0];
      return `Map<{${entries ? entries.children.map((c) => `${c.name}:${typeName(c)}`).join(", ") : ""}}>`;
    }
    case TypeId.LargeBinary:
      return "LargeBinary";
    case TypeId.LargeUtf8:
      return "LargeUtf8";
    case TypeId.BinaryView:
      return "BinaryView";
    case TypeId.Utf8View:
      return "Utf8View";
    // Types apache-arrow has no class for, spelled the way the format names them.
    case TypeId.RunEndEncoded:
      return `RunEndEncoded<${child(0)}, ${child(1)}>`;
    case TypeId.ListView:
      return `ListView<${child(0)}>`;
    case TypeId.LargeListView:
      return `LargeListView<${child(0)}>`;
    default:
      return `(Arrow type id ${field.typeId})`;
  }
}
