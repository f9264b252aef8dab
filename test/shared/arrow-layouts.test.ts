// Arrow layouts other writers use by default, through the host into the real samples: vector.flat takes
// List / LargeList<Float32> vectors of uniform length (polars' default) and ignores columns it does not use
// (an extra LargeUtf8, a Bool, a dictionary-encoded column); the logical types read LargeUtf8 literals.
// Refusals name the column and its type in Arrow's spelling. (IPC written by arrow-rs instead of
// apache-arrow: test/plugins/arrow-rs-interop.test.ts.)
import {
  Bool,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int32,
  LargeList,
  LargeUtf8,
  List,
  makeData,
  makeVector,
  Table,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects, hitsOf, seededFloats, vectorColumn } from "./host-util.ts";

const DIM = 4;
const ROWS = 50;
const IDS = BigInt64Array.from({ length: ROWS }, (_, r) => BigInt(100 + 3 * r));
const DATA = seededFloats(11, ROWS * DIM);
const QUERIES = seededFloats(12, 3 * DIM);

/** A List<Float32> (or LargeList) column over row-major values, `lengths[r]` values per row. */
function listColumn(values: Float32Array, lengths: readonly number[], large: boolean) {
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const type = large
    ? new LargeList(new Field("item", new Float32(), true))
    : new List(new Field("item", new Float32(), true));
  const offsets = [0];
  for (const n of lengths) offsets.push((offsets.at(-1) as number) + n);
  const valueOffsets = large ? BigInt64Array.from(offsets, BigInt) : Int32Array.from(offsets);
  return makeVector(makeData({ type, length: lengths.length, nullCount: 0, valueOffsets, child } as never));
}

const uniform = (rows: number) => Array.from({ length: rows }, () => DIM);

describe("vector.flat takes the vector layouts other writers use", () => {
  let host: PluginHost;
  let expected: ReturnType<typeof hitsOf>;
  beforeAll(async () => {
    host = new PluginHost();
    await host.load(await loadPlugin("vector-flat-v1"));
    const reference = await host.createIndex(
      "reference",
      "vector.flat",
      new Table({
        id: makeVector(IDS),
        vector: vectorColumn(DATA, DIM),
      }),
    );
    expected = hitsOf(await reference.probe(new Table({ vector: vectorColumn(QUERIES, DIM) }), 5));
  });

  for (const large of [false, true]) {
    const name = large ? "LargeList<Float32>" : "List<Float32>";
    it(`builds from ${name} vectors and probes with ${name} queries, as FixedSizeList does`, async () => {
      // Columns vector.flat does not use are ignored whatever their type, before, between and after the two
      // it reads (so the reader must step past each one's buffers exactly).
      const source = new Table({
        flag: vectorFromArray(
          Array.from({ length: ROWS }, (_, r) => r % 2 === 0),
          new Bool(),
        ),
        id: makeVector(IDS),
        tag: vectorFromArray(
          Array.from({ length: ROWS }, (_, r) => ["a", "b", "c"][r % 3] as string),
          new Dictionary(new Utf8(), new Int32()),
        ),
        vector: listColumn(DATA, uniform(ROWS), large),
        label: vectorFromArray(
          Array.from({ length: ROWS }, (_, r) => `row ${r}`),
          new LargeUtf8(),
        ),
      });
      expect(String(source.schema.fields[3]?.type)).to.equal(name);
      const idx = await host.createIndex(`list-${large}`, "vector.flat", source);
      const result = await idx.probe(new Table({ vector: listColumn(QUERIES, uniform(3), large) }), 5);
      expect(hitsOf(result)).to.deep.equal(expected);
    });
  }

  it("names the type and column when the vector column is of another type", async () => {
    const source = new Table({
      id: makeVector(IDS),
      vector: vectorFromArray(
        Array.from({ length: ROWS }, () => 1.5),
        new Float64(),
      ),
    });
    await expectRejects(host.createIndex("wrong-type", "vector.flat", source), {
      code: ErrorCode.TypeCoercion,
      message:
        "column 'vector' is Float64; vector.flat needs FixedSizeList[d]<Float32>, or List<Float32> / LargeList<Float32>",
    });
    const doubles = makeVector(
      makeData({
        type: new LargeList(new Field("item", new Float64(), true)),
        length: 1,
        nullCount: 0,
        valueOffsets: BigInt64Array.from([0n, 2n]),
        child: makeData({ type: new Float64(), length: 2, data: Float64Array.from([1, 2]) }),
      } as never),
    );
    await expectRejects(
      host.createIndex(
        "large-doubles",
        "vector.flat",
        new Table({ id: makeVector(BigInt64Array.from([1n])), vector: doubles }),
      ),
      { code: ErrorCode.TypeCoercion, message: "column 'vector' is LargeList<Float64>; vector.flat needs" },
    );
  });

  it("refuses List vectors of different lengths, naming the rows", async () => {
    const lengths = uniform(ROWS);
    lengths[7] = DIM + 1;
    const values = seededFloats(3, ROWS * DIM + 1);
    await expectRejects(
      host.createIndex(
        "ragged",
        "vector.flat",
        new Table({ id: makeVector(IDS), vector: listColumn(values, lengths, false) }),
      ),
      {
        code: ErrorCode.TypeCoercion,
        message: [
          "column 'vector' is List<Float32> with rows of different lengths (row 0 has 4 values, row 7 has 5)",
          "vector.flat needs every vector the same length",
        ],
      },
    );
  });

  it("lists the columns there are when the vector column is missing", async () => {
    const source = new Table({ id: makeVector(IDS), embedding: listColumn(DATA, uniform(ROWS), true) });
    await expectRejects(host.createIndex("missing", "vector.flat", source), {
      code: ErrorCode.TypeCoercion,
      message: "source has no column 'vector' (vector.flat needs FixedSizeList[d]<Float32>",
    });
    await expectRejects(host.createIndex("missing-2", "vector.flat", source), {
      message: "it has 'id' (Int64), 'embedding' (LargeList<Float32>)",
    });
  });
});

describe("logical types read LargeUtf8 literals", () => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost();
    await host.load(await loadPlugin("types-v1"));
  });

  it("casts a LargeUtf8 column of WKT points and UUIDs like a Utf8 one", async () => {
    const geo = host.logicalType("geo.point");
    const large = new Table({ value: vectorFromArray(["POINT(13.4 52.5)", null, "point( -1  2 )"], new LargeUtf8()) });
    const small = new Table({ value: vectorFromArray(["POINT(13.4 52.5)", null, "point( -1  2 )"], new Utf8()) });
    const fromLarge = await geo.castFrom(large);
    const fromSmall = await geo.castFrom(small);
    expect(
      fromLarge
        .getChildAt(0)
        ?.toJSON()
        .map((v) => (v ? [...v] : v)),
    ).to.deep.equal([[13.4, 52.5], null, [-1, 2]]);
    expect(
      fromLarge
        .getChildAt(0)
        ?.toJSON()
        .map((v) => (v ? [...v] : v)),
    ).to.deep.equal(
      fromSmall
        .getChildAt(0)
        ?.toJSON()
        .map((v) => (v ? [...v] : v)),
    );
    const uuid = host.logicalType("uuid");
    const ids = await uuid.castFrom(
      new Table({ value: vectorFromArray(["123e4567-e89b-12d3-a456-426614174000"], new LargeUtf8()) }),
    );
    expect(await uuid.toDisplay(ids)).to.deep.equal(["123e4567-e89b-12d3-a456-426614174000"]);
  });

  it("names the type and column it cannot read", async () => {
    const geo = host.logicalType("geo.point");
    await expectRejects(geo.castFrom(new Table({ where: vectorFromArray([1, 2], new Int32()) })), {
      code: ErrorCode.TypeCoercion,
      message: "column 'where' is Int32; this plugin reads Utf8, LargeUtf8",
    });
    const lists = listColumn(Float32Array.from([1, 2]), [2], false);
    await expectRejects(geo.castFrom(new Table({ where: lists })), {
      message: "column 'where' is List<Float32>",
    });
  });
});
