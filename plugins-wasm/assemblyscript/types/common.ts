// What both logical types share: error codes, the output field, row loops.
import { ArrowStream, Column, ColumnBuilder, DataType, Field, TypeId } from "../../sdk/assemblyscript/arrow/column";
import { CODE_MALFORMED, CODE_RESOURCE_LIMIT, FnError, Result, fnError } from "../../sdk/assemblyscript/error";

/** A value that does not parse or is out of range (names the row and value). */
export const CODE_INVALID_VALUE: u32 = 0x101;
/** A cast target this type does not support. */
export const CODE_UNSUPPORTED_CAST: u32 = 0x102;

/**
 * The longest literal, in UTF-8 bytes, a type parses unless built with
 * another limit: a real WKT point or UUID is a few dozen bytes, and a bound
 * keeps one malicious row from costing the whole call (or a later reload,
 * which re-checks literals the host has seen) real time.
 */
export const DEFAULT_MAX_LITERAL_BYTES: i32 = 4096;

/** Bytes of text value `i` of a Utf8/LargeUtf8 column. */
export function textLength(input: Column, i: i32): i32 {
  const offsets = changetype<Int32Array>(input.offsets);
  return unchecked(offsets[i + 1]) - unchecked(offsets[i]);
}

/** Code 4 (resource limit): a literal longer than the type's bound, refused before it is parsed. */
export function literalTooLong(row: i32, bytes: i32, limit: i32): FnError {
  return fnError(
    CODE_RESOURCE_LIMIT,
    `row ${row}: a literal of ${bytes} bytes is longer than this type's limit of ${limit} bytes; nothing was parsed`,
  );
}

export function invalidRow(row: i32, message: string): FnError {
  return fnError(CODE_INVALID_VALUE, `row ${row}: ${message}`);
}

export function wrongInput(op: string, expected: string, got: DataType): FnError {
  return fnError(CODE_MALFORMED, `${op} expects a ${expected} column, got ${got.toString()}`);
}

/** The storage field: the input's name, the extension identity in its metadata. */
export function extensionField(input: Field, storage: DataType, name: string, metadata: string): Field {
  return new Field(input.name, storage, true)
    .withMetadata("ARROW:extension:name", name)
    .withMetadata("ARROW:extension:metadata", metadata);
}

/** Per-row conversion: returns an error, or appends the row (or a null) to `out`. */
export abstract class RowMapper {
  abstract row(input: Column, i: i32, globalRow: i32, out: ColumnBuilder): FnError | null;
  /** Expected output bytes per Utf8/Binary row, so the builder is allocated once per batch. */
  get bytesPerRow(): i32 {
    return 0;
  }
}

/** Maps every batch row by row; nulls pass through as nulls. */
export function mapRows(input: ArrowStream, field: Field, mapper: RowMapper): Result<ArrowStream> {
  const out = new ArrowStream(field);
  let base = 0;
  for (let b = 0; b < input.batches.length; b++) {
    const col = input.batches[b];
    const builder = new ColumnBuilder(field.type);
    builder.reserve(col.length, mapper.bytesPerRow);
    for (let i = 0; i < col.length; i++) {
      if (col.isNull(i)) {
        builder.appendNull();
        continue;
      }
      const err = mapper.row(col, i, base + i, builder);
      if (err != null) return Result.err<ArrowStream>(err);
    }
    out.batches.push(builder.finish());
    base += col.length;
  }
  return Result.ok<ArrowStream>(out);
}

/** Text the types read: Utf8, or LargeUtf8 (polars' and pandas' default strings). */
export function isUtf8(t: DataType): bool {
  return t.id == TypeId.Utf8 || t.id == TypeId.LargeUtf8;
}

export function utf8Field(input: Field): Field {
  return new Field(input.name, DataType.utf8(), true);
}
