// Arrow columns from type names (apache-arrow's `DataType.toString()` spelling, as the WIT uses), and fast-check
// arbitraries for their values: what check, compat and dev generate data with. Strings are built as plain Utf8
// vectors on purpose: `tableFromArrays` dictionary-encodes strings, and the SDKs refuse dictionaries.
import {
  Binary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { CliError } from "./errors.mjs";

/**
 * Parses a type name into an apache-arrow DataType. Supported: Int32, Int64, Float32, Float64, Utf8, Binary,
 * FixedSizeBinary[n], FixedSizeList[n]<Float32|Float64>.
 * @returns {import("apache-arrow").DataType | undefined} undefined for anything else
 */
export function arrowType(name) {
  const simple = { Int32, Int64, Float32, Float64, Utf8, Binary }[name];
  if (simple) return new simple();
  let m = /^FixedSizeBinary\[(\d+)\]$/.exec(name);
  if (m) return new FixedSizeBinary(Number(m[1]));
  m = /^FixedSizeList\[(\d+)\]<(Float32|Float64)>$/.exec(name);
  if (m) {
    const child = m[2] === "Float32" ? new Float32() : new Float64();
    return new FixedSizeList(Number(m[1]), new Field("item", child, true));
  }
  return undefined;
}

/** The type's name back, in the same spelling (what `arrow-type` returns). */
export function typeName(type) {
  return String(type);
}

/**
 * A fast-check arbitrary of one non-null value of `type`, in the JS form vectorFromArray takes.
 * Numbers are finite and moderate: generated data tests contracts, not float edge cases.
 */
export function valueArbitrary(fc, type) {
  const name = String(type);
  if (name === "Int32") return fc.integer({ min: -1_000_000, max: 1_000_000 });
  if (name === "Int64") return fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n });
  if (name === "Float64") {
    return fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    );
  }
  if (name === "Float32")
    return fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map(Math.fround);
  if (name === "Utf8") return fc.string({ maxLength: 12 });
  if (name === "Binary") return fc.uint8Array({ maxLength: 16 });
  if (type instanceof FixedSizeBinary) return fc.uint8Array({ minLength: type.byteWidth, maxLength: type.byteWidth });
  if (type instanceof FixedSizeList) {
    const child = type.children[0].type;
    return fc.array(valueArbitrary(fc, child), { minLength: type.listSize, maxLength: type.listSize });
  }
  throw new CliError(`no generator for Arrow type ${name}`);
}

/** A table of the given columns ({ name: type name }) and row values; strings stay plain Utf8. */
export function makeTable(columns, rows) {
  const vectors = {};
  for (const [name, typeNameOf] of Object.entries(columns)) {
    const type = typeof typeNameOf === "string" ? arrowType(typeNameOf) : typeNameOf;
    if (!type) throw new CliError(`unsupported Arrow type ${typeNameOf} for column "${name}"`);
    vectors[name] = vectorFromArray(
      rows.map((r) => r[name] ?? null),
      type,
    );
  }
  return new Table(vectors);
}

/** Arrow IPC stream bytes of a table. */
export function ipc(table) {
  return tableToIPC(table, "stream");
}

/** A table's rows as plain JSON-able values (bigints and bytes spelled out), for equality and messages. */
export function plainRows(bytesOrTable) {
  const table = bytesOrTable instanceof Uint8Array ? tableFromIPC(bytesOrTable) : bytesOrTable;
  const fields = table.schema.fields.map((f) => f.name);
  const out = [];
  for (let i = 0; i < table.numRows; i++) {
    const row = {};
    for (let c = 0; c < fields.length; c++) row[fields[c]] = plain(table.getChildAt(c)?.get(i));
    out.push(row);
  }
  return out;
}

/** One cell as a JSON-able value. */
export function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Uint8Array) return `0x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (typeof v === "object" && typeof v.toArray === "function") return [...v.toArray()].map(plain);
  if (ArrayBuffer.isView(v)) return [...v].map(plain);
  return v;
}

/** `a schema: "name: Type, …"` for messages. */
export function schemaText(bytes) {
  return tableFromIPC(bytes)
    .schema.fields.map((f) => `${f.name}: ${f.type}`)
    .join(", ");
}
