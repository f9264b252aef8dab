// Any Arrow type, named from its IPC metadata (a Schema.fbs Field table) in
// Arrow's own spelling — apache-arrow's `DataType.toString()`, e.g.
// `LargeList<Float32>`, `Timestamp<MICROSECOND, UTC>` — so a refusal names the
// type a writer actually sent, not a type id.
import { FbTable } from "./flatbuffers";

const TIME_UNITS: string[] = ["SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"];
const INTERVAL_UNITS: string[] = ["YEAR_MONTH", "DAY_TIME", "MONTH_DAY_NANO"];
const MAX_DEPTH: i32 = 16;

function unit(names: string[], u: i32): string {
  return u >= 0 && u < names.length ? names[u] : `unit ${u}`;
}

function childTables(f: FbTable): FbTable[] {
  const out: FbTable[] = [];
  const v = f.vector(5, 4);
  for (let i = 0; i < v.length && f.buf.error == null; i++) {
    const c = f.tableIn(v, i);
    if (c != null) out.push(c);
  }
  return out;
}

function childName(children: FbTable[], i: i32, depth: i32): string {
  return i < children.length ? typeName(children[i], depth + 1) : "?";
}

function members(children: FbTable[], depth: i32): string {
  const parts: string[] = [];
  for (let i = 0; i < children.length; i++) {
    const n = children[i].string(0);
    parts.push(`${n != null ? n : ""}:${typeName(children[i], depth + 1)}`);
  }
  return parts.join(", ");
}

/** The type of field `f` (dictionary encoding included) in Arrow's spelling. */
export function typeName(f: FbTable, depth: i32 = 0): string {
  if (depth > MAX_DEPTH) return "…";
  const value = valueTypeName(f, depth);
  const dict = f.table(4);
  if (dict == null) return value;
  const index = dict.table(1);
  const bits = index == null ? 32 : index.i32(0, 32);
  const signed = index == null ? true : index.u8(1, 1) != 0;
  return `Dictionary<${signed ? "I" : "Ui"}nt${bits}, ${value}>`;
}

function valueTypeName(f: FbTable, depth: i32): string {
  const id = f.u8(2, 0);
  const t = f.table(3);
  const children = childTables(f);
  switch (id) {
    case 1:
      return "Null";
    case 2: {
      const bits = t == null ? 0 : t.i32(0, 0);
      const signed = t == null ? false : t.u8(1, 0) != 0;
      return `${signed ? "I" : "Ui"}nt${bits}`;
    }
    case 3: {
      const p = t == null ? 0 : t.i16(0, 0);
      return `Float${p == 0 ? 16 : p << 5}`;
    }
    case 4:
      return "Binary";
    case 5:
      return "Utf8";
    case 6:
      return "Bool";
    case 7: {
      const precision = t == null ? 0 : t.i32(0, 0);
      const scale = t == null ? 0 : t.i32(1, 0);
      return `Decimal[${precision}e${scale > 0 ? "+" : ""}${scale}]`;
    }
    case 8: {
      const u = t == null ? 1 : t.i16(0, 1);
      return u == 0 ? "Date32<DAY>" : "Date64<MILLISECOND>";
    }
    case 9:
      return `Time${t == null ? 32 : t.i32(1, 32)}<${unit(TIME_UNITS, t == null ? 1 : t.i16(0, 1))}>`;
    case 10: {
      let zone = "";
      if (t != null) {
        const tz = t.string(1);
        if (tz != null && tz.length > 0) zone = ", " + tz;
      }
      return `Timestamp<${unit(TIME_UNITS, t == null ? 0 : t.i16(0, 0))}${zone}>`;
    }
    case 11:
      return `Interval<${unit(INTERVAL_UNITS, t == null ? 0 : t.i16(0, 0))}>`;
    case 12:
      return `List<${childName(children, 0, depth)}>`;
    case 13:
      return `Struct<{${members(children, depth)}}>`;
    case 14: {
      const parts: string[] = [];
      for (let i = 0; i < children.length; i++) parts.push(typeName(children[i], depth + 1));
      return `Union<${parts.join(" | ")}>`;
    }
    case 15:
      return `FixedSizeBinary[${t == null ? 0 : t.i32(0, 0)}]`;
    case 16:
      return `FixedSizeList[${t == null ? 0 : t.i32(0, 0)}]<${childName(children, 0, depth)}>`;
    case 17: {
      const entries = children.length > 0 ? childTables(children[0]) : new Array<FbTable>(0);
      return `Map<{${members(entries, depth + 1)}}>`;
    }
    case 18:
      return `Duration<${unit(TIME_UNITS, t == null ? 1 : t.i16(0, 1))}>`;
    case 19:
      return "LargeBinary";
    case 20:
      return "LargeUtf8";
    case 21:
      return `LargeList<${childName(children, 0, depth)}>`;
    case 22:
      return `RunEndEncoded<${childName(children, 0, depth)}, ${childName(children, 1, depth)}>`;
    case 23:
      return "BinaryView";
    case 24:
      return "Utf8View";
    case 25:
      return `ListView<${childName(children, 0, depth)}>`;
    case 26:
      return `LargeListView<${childName(children, 0, depth)}>`;
    default:
      return `(Arrow type id ${id})`;
  }
}
