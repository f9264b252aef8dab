/**
 * The Rust SDK's own Arrow IPC reader and writer, against apache-arrow 21,
 * through the `arrow-echo` test fixture component: its `build` reads a
 * stream with the SDK reader, `persist` writes it back with the SDK writer,
 * `probe(q, 1)` reads `q` and writes its batches concatenated into one.
 */
import {
  Binary,
  Bool,
  LargeBinary,
  LargeList,
  LargeUtf8,
  List,
  DateDay,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  tableFromIPC,
  tableToIPC,
  Uint32,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { fnErrorOf, instantiateComponent, recordingHostLog } from "./support/transpile.ts";

const fixture = join(fileURLToPath(new URL("../../plugins-wasm/rust/fixtures", import.meta.url)), "arrow-echo.wasm");

interface Handle {
  probe(query: Uint8Array, k: number): Uint8Array;
  supportsFilter(): boolean;
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array): Uint8Array;
  [Symbol.dispose](): void;
  persist(): Uint8Array;
  schema(): Uint8Array;
}
interface EchoPlugin {
  index: {
    build(kind: string, source: Uint8Array, options: string): Handle;
    open(kind: string, bytes: Uint8Array): Handle;
  };
}
let echo: EchoPlugin;
beforeAll(async () => {
  echo = await instantiateComponent<EchoPlugin>(fixture, { "uni:plugin/host-log": recordingHostLog() });
});

/** Every cell as plain JSON-comparable data, nulls kept. */
function cells(table: Table): unknown[][] {
  return table.schema.fields.map((field) => {
    const column = table.getChild(field.name);
    if (!column) throw new Error(`no column ${field.name}`);
    return [...column].map((v) =>
      v === null
        ? null
        : v instanceof Uint8Array
          ? [...v]
          : typeof v === "object" && v && "toArray" in v
            ? [...(v as Iterable<unknown>)]
            : v,
    );
  });
}
const describeSchema = (t: Table) => t.schema.fields.map((f) => `${f.name}: ${f.type} nullable=${f.nullable}`);

function fslColumn(rows: (number[] | null)[], d: number, elementNulls: number[] = []) {
  const type = new FixedSizeList(d, new Field("item", new Float32(), true));
  const values = Float32Array.from(rows.flatMap((r) => r ?? new Array(d).fill(0)));
  const childBitmap = new Uint8Array(Math.ceil(values.length / 8)).fill(0xff);
  for (const i of elementNulls) childBitmap[i >> 3] &= ~(1 << (i & 7));
  const child = makeData({
    type: new Float32(),
    length: values.length,
    data: values,
    nullCount: elementNulls.length,
    nullBitmap: elementNulls.length ? childBitmap : undefined,
  });
  const nullRows = rows.flatMap((r, i) => (r === null ? [i] : []));
  const bitmap = new Uint8Array(Math.ceil(rows.length / 8)).fill(0xff);
  for (const r of nullRows) bitmap[r >> 3] &= ~(1 << (r & 7));
  return makeVector(
    makeData({
      type,
      length: rows.length,
      child,
      nullCount: nullRows.length,
      nullBitmap: nullRows.length ? bitmap : undefined,
    }),
  );
}

function sampleTable(offset: number, rows: number): Table {
  const pick = <T>(f: (i: number) => T, nullEvery: number) =>
    Array.from({ length: rows }, (_, i) => ((i + offset) % nullEvery === 2 ? null : f(i + offset)));
  return new Table({
    i32: vectorFromArray(
      pick((i) => i * 3 - 7, 5),
      new Int32(),
    ),
    i64: vectorFromArray(
      pick((i) => BigInt(i) * -9007199254740993n, 4),
      new Int64(),
    ),
    f32: vectorFromArray(
      pick((i) => Math.fround(i / 3), 6),
      new Float32(),
    ),
    f64: vectorFromArray(
      pick((i) => i / 7 - 1e300 * (i % 2), 3),
      new Float64(),
    ),
    utf8: vectorFromArray(
      pick((i) => ["", "ä", "日本語", "emoji 🎉", `row ${i}`][i % 5], 7),
      new Utf8(),
    ),
    bin: vectorFromArray(
      pick((i) => Uint8Array.from({ length: i % 4 }, (_, j) => (i * 31 + j) & 255), 5),
      new Binary(),
    ),
    vec: fslColumn(
      pick((i) => [i, -i, i / 2], 4),
      3,
    ),
  });
}

describe("the SDK Arrow IPC reader and writer round-trip apache-arrow streams", () => {
  it("keeps every type, value, null and batch boundary", () => {
    const original = new Table([...sampleTable(0, 11).batches, ...sampleTable(11, 6).batches]);
    const ipc = tableToIPC(original, "stream");
    const written = echo.index.build("arrow.echo", ipc, "").persist();
    const back = tableFromIPC(written);
    expect(describeSchema(back)).toEqual(describeSchema(original));
    expect(back.batches.map((b) => b.numRows)).toEqual([11, 6]);
    expect(cells(back)).toEqual(cells(original));
    // The SDK reads its own output and writes the very same bytes again.
    expect(Buffer.from(echo.index.open("arrow.echo", written).persist()).equals(Buffer.from(written))).toBe(true);
  });

  it("concatenates batches into one", () => {
    const original = new Table([
      ...sampleTable(3, 4).batches,
      ...sampleTable(7, 9).batches,
      ...sampleTable(1, 1).batches,
    ]);
    const handle = echo.index.build("arrow.echo", tableToIPC(sampleTable(0, 1), "stream"), "");
    const back = tableFromIPC(handle.probe(tableToIPC(original, "stream"), 1));
    expect(back.batches.map((b) => b.numRows)).toEqual([14]);
    expect(cells(back)).toEqual(cells(original));
  });

  it("keeps nulls inside FixedSizeList elements", () => {
    const original = new Table({ vec: fslColumn([[1, 2], [3, 4], null, [5, 6]], 2, [1, 6]) });
    const back = tableFromIPC(echo.index.build("arrow.echo", tableToIPC(original, "stream"), "").persist());
    expect(cells(back)).toEqual([[[1, null], [3, 4], null, [null, 6]]]); // elements 1 and 6 are null
    expect(cells(back)).toEqual(cells(original));
  });

  it("handles zero rows and schema-only streams", () => {
    const empty = sampleTable(0, 0);
    const handle = echo.index.build("arrow.echo", tableToIPC(empty, "stream"), "");
    const back = tableFromIPC(handle.persist());
    expect(describeSchema(back)).toEqual(describeSchema(empty));
    expect(back.numRows).toBe(0);
    const schemaOnly = tableFromIPC(handle.schema());
    expect(describeSchema(schemaOnly)).toEqual(describeSchema(empty));
    expect(schemaOnly.numRows).toBe(0);
  });

  it("reads sliced vectors apache-arrow rebases on write", () => {
    const whole = sampleTable(0, 30);
    const sliced = whole.slice(7, 19);
    const back = tableFromIPC(echo.index.build("arrow.echo", tableToIPC(sliced, "stream"), "").persist());
    expect(cells(back)).toEqual(cells(sliced));
  });
});

describe("the SDK reads and writes the Large and List layouts other writers default to", () => {
  it("round-trips List<Float32>, LargeList<Float32>, LargeUtf8 and LargeBinary with nulls", () => {
    const list = (large: boolean) => {
      const type = large
        ? new LargeList(new Field("item", new Float32(), true))
        : new List(new Field("item", new Float32(), true));
      const offsets = [0, 2, 2, 5, 6];
      return makeVector(
        makeData({
          type,
          length: 4,
          nullCount: 1,
          nullBitmap: Uint8Array.of(0b1011),
          valueOffsets: large ? BigInt64Array.from(offsets, BigInt) : Int32Array.from(offsets),
          child: makeData({
            type: new Float32(),
            length: 6,
            nullCount: 1,
            nullBitmap: Uint8Array.of(0b111011),
            data: Float32Array.of(1, 2, 3, 4, 5, 6),
          }),
        } as never),
      );
    };
    const original = new Table({
      small: list(false),
      large: list(true),
      text: vectorFromArray(["a", null, "ccc", "dé"], new LargeUtf8()),
      blob: vectorFromArray([Uint8Array.of(1), Uint8Array.of(), null, Uint8Array.of(2, 3)], new LargeBinary()),
    });
    const written = echo.index.build("arrow.echo", tableToIPC(original, "stream"), "").persist();
    const back = tableFromIPC(written);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "small:List<Float32>",
      "large:LargeList<Float32>",
      "text:LargeUtf8",
      "blob:LargeBinary",
    ]);
    expect(cells(back)).toEqual(cells(original));
    expect(Buffer.from(echo.index.open("arrow.echo", written).persist()).equals(Buffer.from(written))).toBe(true);
  });
});

describe("the SDK Arrow IPC reader refuses what it does not support, by name", () => {
  it("reads past columns of types it does not decode, and the writer refuses them by name and type", () => {
    const ints = makeVector(
      makeData({
        type: new FixedSizeList(2, new Field("item", new Int32())),
        length: 1,
        child: makeData({ type: new Int32(), length: 2, data: Int32Array.of(1, 2) }),
      }),
    );
    const cases: [Table, string][] = [
      [new Table({ flag: vectorFromArray([true, false], new Bool()) }), "column 'flag' is Bool"],
      [new Table({ small: vectorFromArray([1, 2], new Int16()) }), "column 'small' is Int16"],
      [new Table({ unsigned: vectorFromArray([1, 2], new Uint32()) }), "column 'unsigned' is Uint32"],
      [new Table({ day: vectorFromArray([new Date(0)], new DateDay()) }), "column 'day' is Date32<DAY>"],
      [
        new Table({ tag: vectorFromArray(["a", "b", "a"], new Dictionary(new Utf8(), new Int32())) }),
        "column 'tag' is Dictionary<Int32, Utf8>",
      ],
      [new Table({ ints }), "column 'ints' is FixedSizeList[2]<Int32>"],
    ];
    for (const [table, message] of cases) {
      // Reading succeeds (the column is read past, its buffers still bounds-checked) ...
      const handle = echo.index.build("arrow.echo", tableToIPC(table, "stream"), "");
      // ... and writing it back is refused, naming the column and its type in Arrow's spelling.
      const err = fnErrorOf(() => handle.persist());
      expect(err.code).toBe(2);
      expect(err.message).toContain(`${message}, which this SDK does not write`);
    }
  });

  it("file-format (not stream) bytes, truncations and bit flips are code-2 errors, never traps", () => {
    const table = sampleTable(0, 9);
    expect(fnErrorOf(() => echo.index.build("arrow.echo", tableToIPC(table, "file"), "")).code).toBe(2);
    const ipc = tableToIPC(table, "stream");
    for (let len = 0; len < ipc.length - 8; len++) {
      const prefix = ipc.subarray(0, len);
      try {
        echo.index.build("arrow.echo", prefix, ""); // only the schema-only prefix is a valid stream
      } catch {
        expect(fnErrorOf(() => echo.index.build("arrow.echo", prefix, "")).code).toBe(2);
      }
    }
    for (let i = 0; i < ipc.length; i++) {
      const flipped = ipc.slice();
      flipped[i] ^= 0xff;
      try {
        echo.index.build("arrow.echo", flipped, "").persist();
      } catch {
        expect(fnErrorOf(() => echo.index.build("arrow.echo", flipped, "").persist()).code).toBe(2);
      }
    }
    // Still healthy afterwards.
    expect(cells(tableFromIPC(echo.index.build("arrow.echo", ipc, "").persist()))).toEqual(cells(table));
  });
});

describe("SDK glue defaults", () => {
  it("a handle without filter support says so and returns code 0x20", () => {
    const ipc = tableToIPC(sampleTable(0, 3), "stream");
    const handle = echo.index.build("arrow.echo", ipc, "");
    expect(handle.supportsFilter()).toBe(false);
    const err = fnErrorOf(() => handle.probeFiltered(ipc, 1, Uint8Array.of(0xff)));
    expect(err).toMatchObject({ code: 0x20, retryable: false });
  });

  it("dropped handles free their slot without disturbing live ones", () => {
    const tables = [sampleTable(0, 2), sampleTable(5, 3), sampleTable(9, 4)];
    const handles = tables.map((t) => echo.index.build("arrow.echo", tableToIPC(t, "stream"), ""));
    handles[1][Symbol.dispose]();
    const reused = echo.index.build("arrow.echo", tableToIPC(sampleTable(20, 5), "stream"), "");
    expect(cells(tableFromIPC(handles[0].persist()))).toEqual(cells(tables[0]));
    expect(cells(tableFromIPC(handles[2].persist()))).toEqual(cells(tables[2]));
    expect(cells(tableFromIPC(reused.persist()))).toEqual(cells(sampleTable(20, 5)));
  });
});
