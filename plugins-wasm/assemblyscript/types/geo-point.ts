// geo.point: FixedSizeList[2]<Float64> storage (GeoArrow's interleaved point),
// WKT `POINT(lon lat)` literals. Encoding 1 stores (lon, lat); encoding 2 (the
// deliberately incompatible build) stores (lat, lon).
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
import { formatNumber, quoteAt } from "./text";
import { parseWktPointAt, pointX, pointY, writeWktPoint } from "./wkt";

export const GEO_POINT = "geo.point";

function storageType(): DataType {
  return DataType.fixedSizeList(2, new Field("xy", DataType.float64(), false));
}

function isStorage(t: DataType): bool {
  const child = t.child;
  return t.id == TypeId.FixedSizeList && t.width == 2 && child != null && child.type.id == TypeId.Float64;
}

/** Range and finiteness check; the message names the offending value (formatted only then). */
function checkPoint(row: i32, lon: f64, lat: f64): FnError | null {
  if (!isFinite(lon) || !isFinite(lat)) {
    return invalidRow(row, `point (${formatNumber(lon)}, ${formatNumber(lat)}) is not finite`);
  }
  if (lon < -180 || lon > 180) return invalidRow(row, `longitude ${formatNumber(lon)} is outside [-180, 180]`);
  if (lat < -90 || lat > 90) return invalidRow(row, `latitude ${formatNumber(lat)} is outside [-90, 90]`);
  return null;
}

class FromWkt extends RowMapper {
  constructor(
    public latFirst: bool,
    public maxLiteralBytes: i32,
  ) {
    super();
  }
  row(input: Column, i: i32, row: i32, out: ColumnBuilder): FnError | null {
    const bytes = textLength(input, i);
    if (bytes > this.maxLiteralBytes) return literalTooLong(row, bytes, this.maxLiteralBytes);
    // parsed from the UTF-8 bytes in place (linear in its length); a string only for the error message
    const offsets = changetype<Int32Array>(input.offsets);
    if (!parseWktPointAt(input.data.dataStart, unchecked(offsets[i]), unchecked(offsets[i + 1]))) {
      return invalidRow(row, `${quoteAt(input, i)} is not a WKT point POINT(lon lat)`);
    }
    const lon = pointX;
    const lat = pointY;
    const err = checkPoint(row, lon, lat);
    if (err != null) return err;
    if (this.latFirst) out.appendF64Pair(lat, lon);
    else out.appendF64Pair(lon, lat);
    return null;
  }
}

class ValidateStorage extends RowMapper {
  constructor(public latFirst: bool) {
    super();
  }
  row(input: Column, i: i32, row: i32, out: ColumnBuilder): FnError | null {
    // cast-from takes (lon, lat) storage as every other writer produces it.
    const child = changetype<Column>(input.child);
    const lon = child.f64At(2 * i);
    const lat = child.f64At(2 * i + 1);
    const err = checkPoint(row, lon, lat);
    if (err != null) return err;
    if (this.latFirst) out.appendF64Pair(lat, lon);
    else out.appendF64Pair(lon, lat);
    return null;
  }
}

class ToWkt extends RowMapper {
  constructor(public latFirst: bool) {
    super();
  }
  /** `POINT(` + two coordinates of up to ~10 characters + ` )`. */
  get bytesPerRow(): i32 {
    return 28;
  }
  row(input: Column, i: i32, _row: i32, out: ColumnBuilder): FnError | null {
    const child = changetype<Column>(input.child);
    const a = child.f64At(2 * i);
    const b = child.f64At(2 * i + 1);
    // written straight into the column's data buffer
    if (this.latFirst) writeWktPoint(out.data, b, a);
    else writeWktPoint(out.data, a, b);
    out.endValue();
    return null;
  }
}

export class GeoPoint extends LogicalType {
  /** `maxLiteralBytes`: longer literals are refused (code 4) before they are parsed. */
  constructor(
    public encoding: string,
    public maxLiteralBytes: i32 = DEFAULT_MAX_LITERAL_BYTES,
  ) {
    super();
  }

  get latFirst(): bool {
    return this.encoding == "2";
  }

  arrowType(): string {
    return storageType().toString();
  }

  encodingVersion(): string {
    return this.encoding;
  }

  private field(input: Field): Field {
    const order = this.latFirst ? "lat,lon" : "lon,lat";
    return extensionField(input, storageType(), GEO_POINT, `{"encoding":"${this.encoding}","order":"${order}"}`);
  }

  fromLiteral(literals: ArrowStream): Result<ArrowStream> {
    if (!isUtf8(literals.field.type)) return Result.err<ArrowStream>(wrongInput("geo.point from-literal", "Utf8", literals.field.type));
    return mapRows(literals, this.field(literals.field), new FromWkt(this.latFirst, this.maxLiteralBytes));
  }

  toDisplay(column: ArrowStream): Result<ArrowStream> {
    if (!isStorage(column.field.type)) {
      return Result.err<ArrowStream>(wrongInput("geo.point to-display", storageType().toString(), column.field.type));
    }
    return mapRows(column, utf8Field(column.field), new ToWkt(this.latFirst));
  }

  castTo(column: ArrowStream, target: string): Result<ArrowStream> {
    if (target != "Utf8") {
      return Result.err<ArrowStream>(
        fnError(CODE_UNSUPPORTED_CAST, `geo.point cannot be cast to ${target}; the only target is Utf8`),
      );
    }
    return this.toDisplay(column);
  }

  castFrom(column: ArrowStream): Result<ArrowStream> {
    const t = column.field.type;
    if (isUtf8(t)) return mapRows(column, this.field(column.field), new FromWkt(this.latFirst, this.maxLiteralBytes));
    if (isStorage(t)) return mapRows(column, this.field(column.field), new ValidateStorage(this.latFirst));
    return Result.err<ArrowStream>(wrongInput("geo.point cast-from", `Utf8 or ${storageType().toString()}`, t));
  }
}
