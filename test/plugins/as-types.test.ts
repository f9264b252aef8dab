// The AssemblyScript logical-types sample (plugins-wasm/dist/types-*.wasm)
// against the real components; every column is built and checked with
// apache-arrow on the host side.
import {
  Binary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  Schema,
  Table,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "#test";
import { FnError, type TypePlugin, call, coreInterface, fnErrorOf, instantiateAs } from "./support/as-components.ts";

let v1: TypePlugin;
let v2: TypePlugin;
let v2x: TypePlugin;

beforeAll(async () => {
  v1 = await instantiateAs<TypePlugin>("types-v1");
  v2 = await instantiateAs<TypePlugin>("types-v2");
  v2x = await instantiateAs<TypePlugin>("types-v2-incompatible");
});

const pointType = () => new FixedSizeList(2, new Field("xy", new Float64(), false));

function utf8Ipc(values: (string | null)[], name = "lit"): Uint8Array {
  return tableToIPC(new Table({ [name]: vectorFromArray(values, new Utf8()) }), "stream");
}

function pointIpc(points: ([number, number] | null)[]): Uint8Array {
  return tableToIPC(new Table({ p: vectorFromArray(points, pointType()) }), "stream");
}

function binaryIpc(values: (Uint8Array | null)[]): Uint8Array {
  return tableToIPC(new Table({ b: vectorFromArray(values, new Binary()) }), "stream");
}

/** The single column of an IPC stream, read by apache-arrow. */
function column(ipc: Uint8Array) {
  const table = tableFromIPC(ipc);
  expect(table.schema.fields).to.have.length(1);
  const field = table.schema.fields[0];
  const child = table.getChildAt(0);
  if (!child) throw new Error("no column");
  const values = child.toArray() as unknown[];
  return {
    field,
    type: field.type.toString(),
    metadata: field.metadata,
    values: [...values].map(plain),
    rows: table.numRows,
  };
}

function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return [...v];
  if (typeof v === "object" && v !== null && "toArray" in v)
    return Array.from((v as { toArray(): ArrayLike<number> }).toArray());
  return v;
}

describe("types components: surface", () => {
  it("names, manifests, storage types and encoding versions", () => {
    for (const [p, version] of [
      [v1, "1.0.0"],
      [v2, "2.0.0"],
      [v2x, "2.0.0"],
    ] as const) {
      expect(p.logicalType.names()).to.deep.equal(["geo.point", "uuid"]);
      const m = JSON.parse(p.manifest());
      expect(m).to.include({ id: "dev.uni.types", version });
      expect(m.capabilities).to.deep.equal(["logical-type"]);
      expect(m.provides.logical_types).to.deep.equal(["geo.point", "uuid"]);
      expect(p.logicalType.arrowType("geo.point")).to.equal(pointType().toString());
      expect(p.logicalType.arrowType("geo.point")).to.equal("FixedSizeList[2]<Float64>");
      expect(p.logicalType.arrowType("uuid")).to.equal(new FixedSizeBinary(16).toString());
      expect(p.logicalType.encodingVersion("uuid")).to.equal("1");
    }
    expect(v1.logicalType.encodingVersion("geo.point")).to.equal("1");
    expect(v2.logicalType.encodingVersion("geo.point")).to.equal("1");
    expect(v2x.logicalType.encodingVersion("geo.point")).to.equal("2");
    const err = fnErrorOf(() => v1.logicalType.arrowType("email"));
    expect(err.code).to.equal(0x100);
    expect(err.message).to.contain("email");
  });

  it("core module imports nothing beyond docs/abi.md", async () => {
    const { imports, exports } = await coreInterface("types-v1");
    for (const i of imports) expect(i).to.equal("uni:plugin/host-log@1.0.0 log");
    expect(exports).to.include("uni:plugin/logical-type@1.0.0#cast-from");
  });
});

describe("geo.point", () => {
  it("from-literal parses flexible WKT into FixedSizeList[2]<Float64> with extension metadata, nulls kept", () => {
    const out = column(
      call(() =>
        v1.logicalType.fromLiteral(
          "geo.point",
          utf8Ipc(["POINT(1 2)", null, "  point ( -122.5   37.25 ) ", "Point(1e1 -9E-1)"]),
        ),
      ),
    );
    expect(out.type).to.equal("FixedSizeList[2]<Float64>");
    expect(out.metadata.get("ARROW:extension:name")).to.equal("geo.point");
    expect(out.metadata.has("ARROW:extension:metadata")).to.equal(true);
    expect(out.field.name).to.equal("lit");
    expect(out.values).to.deep.equal([[1, 2], null, [-122.5, 37.25], [10, -0.9]]);
  });

  it("literal -> storage -> display round-trips any valid point, with shortest numbers", () => {
    const lon = fc.double({ min: -180, max: 180, noNaN: true });
    const lat = fc.double({ min: -90, max: 90, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.option(fc.tuple(lon, lat), { nil: null }), { maxLength: 20 }), (points) => {
        // JavaScript's shortest spelling (String(-0) is "0", so spell -0 by hand)
        const js = (x: number) => (Object.is(x, -0) ? "-0" : String(x));
        const literals = points.map((p) => (p ? `POINT(${js(p[0])} ${js(p[1])})` : null));
        const storage = call(() => v1.logicalType.fromLiteral("geo.point", utf8Ipc(literals)));
        // bit-exact parse: Object.is tells -0 from 0
        const stored = column(storage).values as ([number, number] | null)[];
        stored.forEach((p, i) => {
          const want = points[i];
          if (!want || !p) {
            expect(p).to.equal(want);
            return;
          }
          expect(Object.is(p[0], want[0]) && Object.is(p[1], want[1]), `${p} vs ${want}`).to.equal(true);
        });
        const shown = column(call(() => v1.logicalType.toDisplay("geo.point", storage)));
        expect(shown.type).to.equal("Utf8");
        expect(shown.values).to.deep.equal(literals);
        expect(column(call(() => v1.logicalType.castTo("geo.point", storage, "Utf8"))).values).to.deep.equal(
          shown.values,
        );
      }),
      { numRuns: 150 },
    );
  });

  it("displays typical coordinates exactly as JavaScript prints them", () => {
    const coordinate = (limit: number) =>
      fc
        .tuple(fc.integer({ min: -limit * 1e6, max: limit * 1e6 }), fc.integer({ min: 0, max: 6 }))
        .map(([n, d]) => Number((n / 1e6).toFixed(d)));
    fc.assert(
      fc.property(fc.array(fc.tuple(coordinate(180), coordinate(90)), { maxLength: 20 }), (points) => {
        const storage = call(() => v1.logicalType.castFrom("geo.point", pointIpc(points)));
        const js = (x: number) => (Object.is(x, -0) ? "-0" : String(x));
        expect(column(call(() => v1.logicalType.toDisplay("geo.point", storage))).values).to.deep.equal(
          points.map(([x, y]) => `POINT(${js(x)} ${js(y)})`),
        );
      }),
    );
    const out = column(
      call(() =>
        v1.logicalType.toDisplay(
          "geo.point",
          pointIpc([
            [0.1, -0],
            [1e-7, 123456789012],
            [-180, 90],
          ]),
        ),
      ),
    );
    expect(out.values).to.deep.equal(["POINT(0.1 -0)", "POINT(1e-7 123456789012)", "POINT(-180 90)"]);
  });

  it("parses hard decimal inputs to the same double as JavaScript (subnormals, halfway cases, long inputs)", () => {
    const texts = [
      "5e-324",
      "2.4703282292062327e-324",
      "2.4703282292062328e-324",
      "2.2250738585072011e-308",
      "2.2250738585072012e-308",
      "-1.14392553267955e-309",
      "-5.86966618026105e-309",
      "0.1",
      "1e-7",
      ".5",
      "5.",
      "179.99999999999999999999999",
      "0.000000000000000000000000000000000000000000001e45",
      "45.00000000000000277555756156289135105907917022705078125",
      "-0.0",
    ];
    const lits = texts.map((t) => `POINT(${t} 0)`);
    const stored = column(call(() => v1.logicalType.fromLiteral("geo.point", utf8Ipc(lits)))).values as number[][];
    for (const [i, p] of stored.entries()) {
      expect(Object.is(p[0], Number(texts[i])), `${texts[i]} -> ${p[0]}`).to.equal(true);
    }
  });

  it("invalid literals and out-of-range points are errors naming the row and the value", () => {
    const bad = fnErrorOf(() => v1.logicalType.fromLiteral("geo.point", utf8Ipc(["POINT(1 2)", null, "POINT(1, 2)"])));
    expect(bad.code).to.equal(0x101);
    expect(bad.message).to.contain("row 2").and.to.contain("POINT(1, 2)");
    const lat = fnErrorOf(() => v1.logicalType.castFrom("geo.point", utf8Ipc(["POINT(0 0)", "POINT(10 95)"])));
    expect(lat.message).to.contain("row 1").and.to.contain("latitude 95");
    const lon = fnErrorOf(() => v1.logicalType.castFrom("geo.point", pointIpc([[0, 0], null, [-180.5, 3]])));
    expect(lon.code).to.equal(0x101);
    expect(lon.message).to.contain("row 2").and.to.contain("longitude -180.5");
    const inf = fnErrorOf(() => v1.logicalType.castFrom("geo.point", pointIpc([[Number.POSITIVE_INFINITY, 3]])));
    expect(inf.message).to.contain("row 0").and.to.contain("not finite");
    const nan = fnErrorOf(() => v1.logicalType.castFrom("geo.point", pointIpc([[1, Number.NaN]])));
    expect(nan.message).to.contain("row 0");
    for (const text of ["POINT(1)", "POINT(1 2 3)", "LINESTRING(1 2)", "POINT(a b)", "POINT(1 2", "POINT(1 2)x", ""]) {
      expect(fnErrorOf(() => v1.logicalType.fromLiteral("geo.point", utf8Ipc([text]))).code).to.equal(0x101);
    }
  });

  it("cast-from accepts valid storage and keeps nulls; cast-to other targets names the target", () => {
    const out = column(call(() => v1.logicalType.castFrom("geo.point", pointIpc([[180, -90], null, [-0.5, 0.25]]))));
    expect(out.values).to.deep.equal([[180, -90], null, [-0.5, 0.25]]);
    expect(out.metadata.get("ARROW:extension:name")).to.equal("geo.point");
    const err = fnErrorOf(() => v1.logicalType.castTo("geo.point", pointIpc([[1, 2]]), "Float64"));
    expect(err.code).to.equal(0x102);
    expect(err.message).to.contain("Float64");
    const wrong = fnErrorOf(() => v1.logicalType.castFrom("geo.point", binaryIpc([new Uint8Array(2)])));
    expect(wrong.code).to.equal(2);
    expect(wrong.message).to.contain("Binary");
  });

  it("v2-incompatible stores (lat, lon) under encoding 2 but displays the same WKT", () => {
    const storage = call(() => v2x.logicalType.fromLiteral("geo.point", utf8Ipc(["POINT(10 20)"])));
    expect(column(storage).values).to.deep.equal([[20, 10]]);
    expect(column(storage).metadata.get("ARROW:extension:metadata")).to.contain('"encoding":"2"');
    expect(column(call(() => v2x.logicalType.toDisplay("geo.point", storage))).values).to.deep.equal(["POINT(10 20)"]);
    // v1 reading v2-incompatible storage sees swapped coordinates: why the encoding version changed
    expect(column(call(() => v1.logicalType.toDisplay("geo.point", storage))).values).to.deep.equal(["POINT(20 10)"]);
  });
});

// Exactness of the number fast paths (Clinger parse, 128-bit shortest print) and their big-integer
// fallbacks: every value is checked against JavaScript's own Number(s) / String(x), which are exact.
describe("geo.point numbers against JavaScript, bit for bit (v1, v2, v2-incompatible)", () => {
  const js = (x: number) => (Object.is(x, -0) ? "-0" : String(x));
  const fromBits = (bits: bigint) => new Float64Array(new BigUint64Array([bits]).buffer)[0] as number;
  const plugins = () =>
    [
      ["v1", v1],
      ["v2", v2],
      ["v2-incompatible", v2x],
    ] as const;

  /** Any double: uniform over bit patterns (every exponent, subnormals), plus fast-check's own edge-biased doubles. */
  const anyDouble = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(fromBits),
    fc.double(),
    // integers, small and beyond 2^53 (ulp > 1: printing picks among several integers)
    fc.integer().map(Number),
    fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(Number),
    // powers of two and their neighbours (the narrower lower gap)
    fc.tuple(fc.integer({ min: -1074, max: 1023 }), fc.integer({ min: -2, max: 2 })).map(([k, d]) => {
      const p = 2 ** k;
      const bits = new BigUint64Array(new Float64Array([p]).buffer)[0] as bigint;
      return fromBits(bits + BigInt(d) >= 0n ? bits + BigInt(d) : bits);
    }),
    // powers of two where the narrower lower gap changes the answer (2^-25, 2^-24: found by brute force
    // with BigInt arithmetic; 2^64..2^68 take the fallback), and every power of two near the fast range
    fc.constantFrom(2 ** -25, 2 ** -24, 2 ** 64, 2 ** 65, 2 ** 66, 2 ** 67, 2 ** 68),
    fc.integer({ min: -40, max: 70 }).map((k) => 2 ** k),
    // M × 2^e with 2^52 <= M < 2^53, e in [-12, 0]: exact ties between two shortest candidates (e.g.
    // 2^49 + 0.25 is exactly halfway between …312.2 and …312.3, both within its rounding interval)
    fc
      .tuple(fc.bigInt({ min: 1n << 52n, max: (1n << 53n) - 1n }), fc.integer({ min: -12, max: 0 }))
      .map(([m, e]) => Number(m) * 2 ** e),
    // short decimals like coordinates: n / 10^d
    fc
      .tuple(fc.integer({ min: -180_000_000, max: 180_000_000 }), fc.integer({ min: 0, max: 9 }))
      .map(([n, d]) => n / 10 ** d),
    fc.constantFrom(-0, 0, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, 2.2250738585072014e-308, 1e21, 1e-7),
  );

  it("to-display spells every double like String(x) (NaN and infinities too)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyDouble, anyDouble), { minLength: 1, maxLength: 300 }), (points) => {
        for (const [name, p] of plugins()) {
          const shown = column(call(() => p.logicalType.toDisplay("geo.point", pointIpc(points)))).values;
          // v2-incompatible stores (lat, lon): the same storage displays swapped
          const want = points.map(([a, b]) =>
            name === "v2-incompatible" ? `POINT(${js(b)} ${js(a)})` : `POINT(${js(a)} ${js(b)})`,
          );
          expect(shown, name).to.deep.equal(want);
        }
      }),
      { numRuns: 60 },
    );
  });

  /** Decimal literals within the valid range: short (Clinger's path), long, tiny, subnormal, exponent forms. */
  const digits = (min: number, max: number) =>
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));
  const sign = fc.constantFrom("", "-", "+");
  const inRangeLiteral = fc.oneof(
    // plain decimals 0..89.xxx with 0-25 fraction digits (many within 15 significant digits, some far beyond)
    fc
      .tuple(sign, fc.integer({ min: 0, max: 89 }), fc.constantFrom(".", ""), digits(0, 25))
      .map(([s, i, dot, f]) => `${s}${i}${dot ? `.${f}` : ""}`),
    // scientific forms with a small or very negative exponent (down into subnormals and below)
    fc
      .tuple(sign, digits(1, 1), digits(0, 22), fc.integer({ min: -345, max: 0 }), fc.constantFrom("e", "E"))
      .map(([s, lead, f, e, E]) => `${s}${lead}${f ? `.${f}` : ""}${E}${e}`),
    // leading zeros and a point first: .5, 000.000123, 5.
    fc.tuple(sign, digits(1, 6), digits(1, 18)).map(([s, z, f]) => `${s}${z.replace(/[1-9]/g, "0")}.${f}`),
    fc.tuple(sign, fc.integer({ min: 0, max: 89 })).map(([s, i]) => `${s}${i}.`),
    // the shortest spelling of any in-range double (round trip)
    fc.double({ min: -90, max: 90, noNaN: true }).map(js),
    // exact halfway points between neighbouring doubles, and one unit either side in the last digit
    // (x below 89: the halfway point above 90 would be out of range)
    fc
      .tuple(fc.double({ min: 2 ** -1074, max: 89, noNaN: true }), fc.integer({ min: -1, max: 1 }))
      .map(([x, d]) => halfwayAbove(x, d)),
  );

  it("from-literal parses every decimal to the double Number(s) gives", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(inRangeLiteral, inRangeLiteral), { minLength: 1, maxLength: 200 }), (pairs) => {
        const literals = pairs.map(([a, b]) => `POINT(${a} ${b})`);
        for (const [name, p] of plugins()) {
          const stored = column(call(() => p.logicalType.fromLiteral("geo.point", utf8Ipc(literals))))
            .values as number[][];
          stored.forEach((pt, i) => {
            const [a, b] = pairs[i] as [string, string];
            const [x, y] = name === "v2-incompatible" ? [pt[1], pt[0]] : [pt[0], pt[1]];
            expect(Object.is(x, Number(a)) && Object.is(y, Number(b)), `${name}: ${a} ${b} -> ${x} ${y}`).to.equal(
              true,
            );
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  it("out-of-range literals of any magnitude: the error names the value as String(Number(s)) spells it", () => {
    const big = fc
      .tuple(fc.constantFrom("", "-"), digits(1, 1), digits(0, 20), fc.integer({ min: 3, max: 310 }))
      .map(([s, lead, f, e]) => `${s}${lead === "0" ? "1" : lead}${f ? `.${f}` : ""}e${e}`);
    fc.assert(
      fc.property(big, (text) => {
        for (const [name, p] of plugins()) {
          const err = fnErrorOf(() => p.logicalType.fromLiteral("geo.point", utf8Ipc([`POINT(${text} 0)`])));
          expect(err.code, name).to.equal(0x101);
          const x = Number(text);
          expect(err.message, `${name}: ${text}`).to.contain(
            Number.isFinite(x) ? `longitude ${js(x)} is outside` : `point (${js(x)}, 0) is not finite`,
          );
        }
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * The exact decimal expansion of the point halfway between the positive double x and the next one up,
 * with `nudge` added to its last digit (so the tie itself and both sides of it).
 */
function halfwayAbove(x: number, nudge: number): string {
  const bits = new BigUint64Array(new Float64Array([x]).buffer)[0] as bigint;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const [m, e] = biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075];
  // (2m + 1) × 2^(e − 1) = (2m + 1) × 5^k / 10^k with k = 1 − e (e < 1 for every double below 2^53)
  const k = 1 - e;
  let n = (2n * m + 1n) * 5n ** BigInt(k) + BigInt(nudge);
  if (n < 0n) n = 0n;
  const text = n.toString().padStart(k + 1, "0");
  return `${text.slice(0, -k)}.${text.slice(-k)}`;
}

describe("uuid", () => {
  const uuidText = fc.uuid();

  it("literal -> FixedSizeBinary[16] -> canonical lowercase display round-trips, input case-insensitive", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.tuple(uuidText, fc.boolean()), { nil: null }), { maxLength: 12 }), (rows) => {
        const literals = rows.map((r) => (r ? (r[1] ? r[0].toUpperCase() : r[0]) : null));
        const storage = call(() => v1.logicalType.fromLiteral("uuid", utf8Ipc(literals)));
        const stored = column(storage);
        expect(stored.type).to.equal("FixedSizeBinary[16]");
        expect(stored.metadata.get("ARROW:extension:name")).to.equal("uuid");
        const hex = (b: unknown) => Buffer.from(b as number[]).toString("hex");
        expect(stored.values.map((v) => (v ? hex(v) : null))).to.deep.equal(
          rows.map((r) => (r ? r[0].replaceAll("-", "").toLowerCase() : null)),
        );
        const shown = column(call(() => v1.logicalType.toDisplay("uuid", storage))).values;
        expect(shown).to.deep.equal(rows.map((r) => (r ? r[0].toLowerCase() : null)));
        expect(column(call(() => v1.logicalType.castTo("uuid", storage, "Utf8"))).values).to.deep.equal(shown);
      }),
      { numRuns: 100 },
    );
  });

  it("cast-from validates Utf8 and takes Binary of exactly 16 bytes", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const out = column(call(() => v1.logicalType.castFrom("uuid", binaryIpc([bytes, null]))));
    expect(out.values).to.deep.equal([[...bytes], null]);
    const short = fnErrorOf(() => v1.logicalType.castFrom("uuid", binaryIpc([bytes, new Uint8Array(15)])));
    expect(short.code).to.equal(0x101);
    expect(short.message).to.contain("row 1").and.to.contain("15");
    const text = fnErrorOf(() => v1.logicalType.castFrom("uuid", utf8Ipc(["00000000-0000-0000-0000-00000000000g"])));
    expect(text.message).to.contain("row 0").and.to.contain("00000000-0000-0000-0000-00000000000g");
    expect(
      fnErrorOf(() =>
        v1.logicalType.castTo(
          "uuid",
          out.rows ? call(() => v1.logicalType.castFrom("uuid", binaryIpc([bytes]))) : new Uint8Array(),
          "Binary",
        ),
      ).message,
    ).to.contain("Binary");
  });

  it("accepts exactly the 8-4-4-4-12 hex texts a regular expression does (braces in v2 only), one row at a time", () => {
    // near-UUIDs: hex digits, dashes, braces and a few look-alikes at random positions
    const near = fc
      .tuple(
        fc.uuid(),
        fc.array(fc.tuple(fc.nat(39), fc.constantFrom("-", "{", "}", "g", "G", "@", "`", "/", ":", "F", "é", "")), {
          maxLength: 3,
        }),
        fc.boolean(),
      )
      .map(([u, edits, braces]) => {
        let t = braces ? `{${u}}` : u;
        for (const [at, c] of edits) t = t.slice(0, at % (t.length + 1)) + c + t.slice((at % (t.length + 1)) + 1);
        return t;
      });
    const plain = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    fc.assert(
      fc.property(near, (text) => {
        for (const [name, p, braces] of [
          ["v1", v1, false],
          ["v2", v2, true],
        ] as const) {
          const inner =
            braces && text.length === 38 && text.startsWith("{") && text.endsWith("}") ? text.slice(1, -1) : text;
          if (plain.test(inner)) {
            const shown = column(
              call(() =>
                p.logicalType.toDisplay(
                  "uuid",
                  call(() => p.logicalType.fromLiteral("uuid", utf8Ipc([text]))),
                ),
              ),
            );
            expect(shown.values, `${name}: ${text}`).to.deep.equal([inner.toLowerCase()]);
          } else {
            const err = fnErrorOf(() => p.logicalType.fromLiteral("uuid", utf8Ipc([text])));
            expect(err.code, `${name}: ${text}`).to.equal(0x101);
            expect(err.message).to.contain(`"${text}"`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("v2 also accepts braces; v1 does not", () => {
    const lit = "{0123ABCD-0000-4000-8000-00000000FFFF}";
    expect(
      column(
        call(() =>
          v2.logicalType.toDisplay(
            "uuid",
            call(() => v2.logicalType.fromLiteral("uuid", utf8Ipc([lit]))),
          ),
        ),
      ).values,
    ).to.deep.equal(["0123abcd-0000-4000-8000-00000000ffff"]);
    expect(fnErrorOf(() => v1.logicalType.fromLiteral("uuid", utf8Ipc([lit]))).message).to.contain("row 0");
  });
});

describe("Arrow IPC in the guest", () => {
  it("reads multi-batch streams and writes one batch per input batch, rows numbered across batches", () => {
    const a = new Table({ lit: vectorFromArray(["POINT(1 1)", null], new Utf8()) });
    const b = new Table({ lit: vectorFromArray(["POINT(2 2)"], new Utf8()) });
    const ipc = tableToIPC(a.concat(b), "stream");
    const out = tableFromIPC(call(() => v1.logicalType.fromLiteral("geo.point", ipc)));
    expect(out.batches).to.have.length(2);
    expect(out.numRows).to.equal(3);
    const badB = new Table({ lit: vectorFromArray(["POINT(300 2)"], new Utf8()) });
    const err = fnErrorOf(() => v1.logicalType.fromLiteral("geo.point", tableToIPC(a.concat(badB), "stream")));
    expect(err.message).to.contain("row 2");
  });

  it("empty columns and schema-only streams", () => {
    const empty = column(call(() => v1.logicalType.fromLiteral("uuid", utf8Ipc([]))));
    expect(empty.rows).to.equal(0);
    expect(empty.type).to.equal("FixedSizeBinary[16]");
    const schemaOnly = tableToIPC(new Table(new Schema([new Field("s", new Utf8())])), "stream");
    expect(column(call(() => v1.logicalType.fromLiteral("uuid", schemaOnly))).rows).to.equal(0);
  });

  it("reads Float64, Int64 and FixedSizeList<Float32> record batches (then refuses them by type, not as malformed)", () => {
    const cases: [Uint8Array, string][] = [
      [tableToIPC(new Table({ f: vectorFromArray([1.5, null], new Float64()) }), "stream"), "Float64"],
      [tableToIPC(new Table({ i: vectorFromArray([1n, null, -3n], new Int64()) }), "stream"), "Int64"],
      [
        tableToIPC(
          new Table({ l: vectorFromArray([[1, 2], null], new FixedSizeList(2, new Field("v", new Float32()))) }),
          "stream",
        ),
        "FixedSizeList[2]<Float32>",
      ],
    ];
    for (const [ipc, type] of cases) {
      const err = fnErrorOf(() => v1.logicalType.castFrom("geo.point", ipc));
      expect(err.code).to.equal(2);
      expect(err.message).to.not.contain("malformed");
      expect(err.message).to.contain(`got ${type}`);
    }
  });

  it("unsupported columns and malformed IPC are code-2 errors that say what was wrong", () => {
    const dict = tableToIPC(new Table({ s: vectorFromArray(["POINT(1 2)"]) }), "stream"); // dictionary-encoded by default
    expect(fnErrorOf(() => v1.logicalType.fromLiteral("geo.point", dict)).message).to.contain(
      "column 's' is Dictionary<Int32, Utf8>",
    );
    const ints = tableToIPC(new Table({ i: vectorFromArray([1, 2], new Int32()) }), "stream");
    const e = fnErrorOf(() => v1.logicalType.fromLiteral("geo.point", ints));
    expect(e.code).to.equal(2);
    expect(e.message).to.contain("column 'i' is Int32; this plugin reads Utf8, LargeUtf8");
    const two = tableToIPC(
      new Table({ a: vectorFromArray(["x"], new Utf8()), b: vectorFromArray(["y"], new Utf8()) }),
      "stream",
    );
    expect(fnErrorOf(() => v1.logicalType.fromLiteral("uuid", two)).message).to.contain("2 fields");
    expect(fnErrorOf(() => v1.logicalType.toDisplay("uuid", new Uint8Array([1, 2, 3]))).code).to.equal(2);
    expect(fnErrorOf(() => v1.logicalType.toDisplay("uuid", new Uint8Array())).message).to.contain("no Schema");
  });

  it("truncated, bit-flipped and random IPC never traps", () => {
    const valid = [
      utf8Ipc(["POINT(1 2)", null, "POINT(3 4)"]),
      pointIpc([[1, 2], null]),
      binaryIpc([new Uint8Array(16), null]),
      call(() => v1.logicalType.fromLiteral("uuid", utf8Ipc(["00000000-0000-4000-8000-000000000000"]))),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.nat(),
        fc.nat(),
        fc.uint8Array({ maxLength: 64 }),
        (ipc, cut, flip, random) => {
          const truncated = ipc.subarray(0, cut % ipc.length);
          const flipped = ipc.slice();
          flipped[flip % flipped.length] ^= 1 << (flip % 8);
          for (const bytes of [truncated, flipped, random]) {
            for (const f of [
              () => v1.logicalType.fromLiteral("geo.point", bytes),
              () => v1.logicalType.toDisplay("geo.point", bytes),
              () => v1.logicalType.castFrom("uuid", bytes),
              () => v1.logicalType.toDisplay("uuid", bytes),
            ]) {
              try {
                const out = call(f);
                tableFromIPC(out); // whatever the guest wrote must be readable
              } catch (err) {
                expect(err).to.be.instanceOf(FnError);
              }
            }
          }
          expect(column(call(() => v1.logicalType.fromLiteral("uuid", utf8Ipc([])))).rows).to.equal(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("writes what apache-arrow reads: nulls, metadata and Binary/FixedSizeBinary layouts", () => {
    // makeData-built input with an explicit validity bitmap and a non-zero-length data buffer
    const data = makeData({
      type: new Utf8(),
      length: 3,
      nullCount: 1,
      nullBitmap: new Uint8Array([0b101]),
      valueOffsets: new Int32Array([0, 10, 10, 20]),
      data: new TextEncoder().encode("POINT(1 2)POINT(3 4)"),
    });
    const ipc = tableToIPC(new Table({ s: makeVector(data) }), "stream");
    expect(column(call(() => v1.logicalType.fromLiteral("geo.point", ipc))).values).to.deep.equal([
      [1, 2],
      null,
      [3, 4],
    ]);
  });
});
