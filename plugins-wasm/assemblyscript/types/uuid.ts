// uuid: FixedSizeBinary[16] storage (the layout of Arrow's canonical
// arrow.uuid), canonical lowercase 8-4-4-4-12 text.
import { ArrowStream, Column, ColumnBuilder, DataType, Field, TypeId } from "../../sdk/assemblyscript/arrow/column";
import { FnError, Result, fnError } from "../../sdk/assemblyscript/error";
import { LogicalType } from "../../sdk/assemblyscript/logical-type";
import {
  CODE_UNSUPPORTED_CAST,
  DEFAULT_MAX_LITERAL_BYTES,
  RowMapper,
  extensionField,
  invalidRow,
  isUtf8,
  literalTooLong,
  mapRows,
  textLength,
  utf8Field,
  wrongInput,
} from "./common";
import { quoteAt } from "./text";
import { parseUuidAt, writeUuid } from "./uuid-bytes";

export const UUID = "uuid";

function storageType(): DataType {
  return DataType.fixedSizeBinary(16);
}

function isStorage(t: DataType): bool {
  return t.id == TypeId.FixedSizeBinary && t.width == 16;
}

class FromText extends RowMapper {
  constructor(
    public allowBraces: bool,
    public maxLiteralBytes: i32,
  ) {
    super();
  }
  row(input: Column, i: i32, row: i32, out: ColumnBuilder): FnError | null {
    const bytes = textLength(input, i);
    if (bytes > this.maxLiteralBytes) return literalTooLong(row, bytes, this.maxLiteralBytes);
    // parsed from the UTF-8 bytes straight into the output column; a string only for the error message
    const offsets = changetype<Int32Array>(input.offsets);
    const data = out.data;
    data.ensure(16);
    const dst = data.buf.dataStart + <usize>data.length;
    if (!parseUuidAt(input.data.dataStart, unchecked(offsets[i]), unchecked(offsets[i + 1]), this.allowBraces, dst)) {
      const form = this.allowBraces ? "8-4-4-4-12 hex digits, optionally in {}" : "8-4-4-4-12 hex digits";
      return invalidRow(row, `${quoteAt(input, i)} is not a UUID (${form})`);
    }
    data.length += 16;
    out.endValue();
    return null;
  }
}

class FromBinary extends RowMapper {
  row(input: Column, i: i32, row: i32, out: ColumnBuilder): FnError | null {
    const offsets = changetype<Int32Array>(input.offsets);
    const start = unchecked(offsets[i]);
    const length = unchecked(offsets[i + 1]) - start;
    if (length != 16) return invalidRow(row, `a UUID is 16 bytes, got ${length}`);
    copyToColumn(out, input.data.dataStart + <usize>start);
    return null;
  }
}

class CopyStorage extends RowMapper {
  row(input: Column, i: i32, _row: i32, out: ColumnBuilder): FnError | null {
    copyToColumn(out, input.data.dataStart + (<usize>i << 4));
    return null;
  }
}

/** Appends the 16 bytes at `src` as one FixedSizeBinary[16] value. */
function copyToColumn(out: ColumnBuilder, src: usize): void {
  const data = out.data;
  data.ensure(16);
  memory.copy(data.buf.dataStart + <usize>data.length, src, 16);
  data.length += 16;
  out.endValue();
}

class ToText extends RowMapper {
  get bytesPerRow(): i32 {
    return 36;
  }
  row(input: Column, i: i32, _row: i32, out: ColumnBuilder): FnError | null {
    writeUuid(out.data, input.data.dataStart + (<usize>i << 4));
    out.endValue();
    return null;
  }
}

export class Uuid extends LogicalType {
  /** `maxLiteralBytes`: longer literals are refused (code 4) before they are parsed. */
  constructor(
    public allowBraces: bool,
    public maxLiteralBytes: i32 = DEFAULT_MAX_LITERAL_BYTES,
  ) {
    super();
  }

  arrowType(): string {
    return storageType().toString();
  }

  private field(input: Field): Field {
    return extensionField(input, storageType(), UUID, "");
  }

  fromLiteral(literals: ArrowStream): Result<ArrowStream> {
    if (!isUtf8(literals.field.type)) return Result.err<ArrowStream>(wrongInput("uuid from-literal", "Utf8", literals.field.type));
    return mapRows(literals, this.field(literals.field), new FromText(this.allowBraces, this.maxLiteralBytes));
  }

  toDisplay(column: ArrowStream): Result<ArrowStream> {
    if (!isStorage(column.field.type)) {
      return Result.err<ArrowStream>(wrongInput("uuid to-display", storageType().toString(), column.field.type));
    }
    return mapRows(column, utf8Field(column.field), new ToText());
  }

  castTo(column: ArrowStream, target: string): Result<ArrowStream> {
    if (target != "Utf8") {
      return Result.err<ArrowStream>(fnError(CODE_UNSUPPORTED_CAST, `uuid cannot be cast to ${target}; the only target is Utf8`));
    }
    return this.toDisplay(column);
  }

  castFrom(column: ArrowStream): Result<ArrowStream> {
    const t = column.field.type;
    if (isUtf8(t)) return mapRows(column, this.field(column.field), new FromText(this.allowBraces, this.maxLiteralBytes));
    if (t.id == TypeId.Binary) return mapRows(column, this.field(column.field), new FromBinary());
    if (isStorage(t)) return mapRows(column, this.field(column.field), new CopyStorage());
    return Result.err<ArrowStream>(wrongInput("uuid cast-from", "Utf8, Binary or FixedSizeBinary[16]", t));
  }
}
