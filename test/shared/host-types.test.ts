// Logical types end to end through the host, against the real sample (plugins-wasm/dist/types-v1):
// geo.point (FixedSizeList[2]<Float64> storage, WKT `POINT(lon lat)` literals) and uuid (FixedSizeBinary[16]).
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects, expectThrows } from "./host-util.ts";

const utf8 = (values: (string | null)[]) => new Table({ value: vectorFromArray(values, new Utf8()) });

/** The first column's rows as plain JS (a FixedSizeList row as an array of numbers, a binary row as bytes). */
function rows(table: Table): unknown[] {
  const col = table.getChildAt(0);
  return col
    ? Array.from(col, (v) => (v === null ? null : typeof v === "object" && "toArray" in v ? [...v.toArray()] : v))
    : [];
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("logical types through the host (types-v1)", () => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost();
    await host.load(await loadPlugin("types-v1"));
  });

  it("registers geo.point and uuid with their storage types", async () => {
    expect(host.provider("logical-type", "geo.point")?.version).to.equal("1.0.0");
    expect(await host.logicalType("geo.point").arrowType()).to.equal("FixedSizeList[2]<Float64>");
    expect(await host.logicalType("uuid").arrowType()).to.equal("FixedSizeBinary[16]");
    expect(await host.logicalType("geo.point").encodingVersion()).to.be.a("string");
  });

  it("parses WKT literals into (lon, lat) storage tagged as the extension type; nulls stay null", async () => {
    const geo = host.logicalType("geo.point");
    const table = await geo.fromLiteral(["POINT(13.4 52.5)", null, "POINT(-0.1275 51.5072)"]);
    expect(table.numRows).to.equal(3);
    const field = table.schema.fields[0];
    expect(String(field?.type)).to.equal("FixedSizeList[2]<Float64>");
    expect(field?.metadata.get("ARROW:extension:name")).to.equal("geo.point");
    expect(rows(table)).to.deep.equal([[13.4, 52.5], null, [-0.1275, 51.5072]]);
  });

  it("renders storage back to display strings and casts it to Utf8", async () => {
    const geo = host.logicalType("geo.point");
    const table = await geo.fromLiteral(["POINT(13.4 52.5)", null, "POINT(-73.9857 40.7484)"]);
    expect(await geo.toDisplay(table)).to.deep.equal(["POINT(13.4 52.5)", null, "POINT(-73.9857 40.7484)"]);
    const cast = await geo.castTo(table, "Utf8");
    expect(String(cast.schema.fields[0]?.type)).to.equal("Utf8");
    expect(rows(cast)).to.deep.equal(["POINT(13.4 52.5)", null, "POINT(-73.9857 40.7484)"]);
  });

  it("casts a Utf8 column into validated storage", async () => {
    const geo = host.logicalType("geo.point");
    const stored = await geo.castFrom(utf8(["POINT(2.35 48.86)", null]));
    expect(rows(stored)).to.deep.equal([[2.35, 48.86], null]);
    expect(stored.schema.fields[0]?.metadata.get("ARROW:extension:name")).to.equal("geo.point");
  });

  it("reports an invalid literal as a plugin error naming its row and value", async () => {
    const geo = host.logicalType("geo.point");
    const err = await expectRejects(geo.fromLiteral(["POINT(1 2)", null, "POINT(3 4", "POINT(5 6)"]), {
      message: ["row 2", "POINT(3 4"],
      pluginId: "dev.uni.types",
      retryable: false,
    });
    expect(err).to.be.instanceOf(PluginCallError);
    expect(err.code).to.be.at.least(0x100);
  });

  it("reports an out-of-range value in castFrom as a plugin error naming its row", async () => {
    const geo = host.logicalType("geo.point");
    await expectRejects(geo.castFrom(utf8(["POINT(0 0)", "POINT(200 10)"])), { message: ["row 1", "200"] });
  });

  it("refuses a cast target the type does not support, naming it", async () => {
    const geo = host.logicalType("geo.point");
    const table = await geo.fromLiteral(["POINT(1 2)"]);
    const err = await expectRejects(geo.castTo(table, "Int32"), { message: "Int32" });
    expect(err).to.be.instanceOf(PluginCallError);
  });

  it("round-trips uuids: any-case text in, 16 bytes stored, canonical lowercase out", async () => {
    const uuid = host.logicalType("uuid");
    const table = await uuid.fromLiteral(["123E4567-E89B-12D3-A456-426614174000", null]);
    expect(String(table.schema.fields[0]?.type)).to.equal("FixedSizeBinary[16]");
    const [first, second] = rows(table) as [Uint8Array, null];
    expect(hex(first)).to.equal("123e4567e89b12d3a456426614174000");
    expect(second).to.equal(null);
    expect(await uuid.toDisplay(table)).to.deep.equal(["123e4567-e89b-12d3-a456-426614174000", null]);
    await expectRejects(uuid.fromLiteral(["123e4567-e89b-12d3-a456-42661417400"]), { message: "row 0" });
  });

  it("refuses an unknown type name", () => {
    expectThrows(() => host.logicalType("geo.polygon"), {
      code: ErrorCode.NotFound,
      message: ["geo.polygon", "geo.point"],
    });
  });
});
