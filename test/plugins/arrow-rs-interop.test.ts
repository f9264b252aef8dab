/**
 * Arrow IPC written by a second Arrow implementation, arrow-rs (through parquet-wasm 0.8.0), fed to the host:
 * vector.flat builds from List and LargeList<Float32> vectors next to an unused LargeUtf8 column and probes
 * with List queries; the logical types cast LargeUtf8 literals; the host's own reader decodes it all.
 *
 * The arrow-rs bytes are made here: an apache-arrow table goes into arrow-rs (`Table.fromIPCStream`), is
 * written as a Parquet file by arrow-rs (`writeParquet`), read back by arrow-rs (`readParquet`) and written
 * as an IPC stream by arrow-rs (`intoIPCStream`).
 *
 * Node-only: parquet-wasm's offline entry point for Node (`parquet-wasm/node`, CommonJS) reads its .wasm
 * next to it with `fs`; its other entry points fetch the .wasm by URL.
 */
import { createRequire } from "node:module";
import {
  Field,
  FixedSizeList,
  Float32,
  LargeList,
  LargeUtf8,
  List,
  makeData,
  makeVector,
  Table,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { checkIPC, fromIPC } from "../../src/arrow.ts";
import { PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

interface ParquetWasm {
  Table: { fromIPCStream(ipc: Uint8Array): unknown };
  writeParquet(table: unknown): Uint8Array;
  readParquet(parquet: Uint8Array): { intoIPCStream(): Uint8Array };
}
const parquet = createRequire(import.meta.url)("parquet-wasm/node") as ParquetWasm;

/** `table` written as a Parquet file by arrow-rs, read back and written as an IPC stream by arrow-rs. */
function viaArrowRs(table: Table): { parquetFile: Uint8Array; ipc: Uint8Array } {
  const parquetFile = parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, "stream")));
  return { parquetFile, ipc: parquet.readParquet(parquetFile).intoIPCStream() };
}

const DIM = 4;
const ROWS = 30;
const values = Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.sin(i * 0.37));
const queries = Float32Array.from({ length: 2 * DIM }, (_, i) => Math.cos(i * 0.61));
const ids = BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(7 * i + 3));

function listVector(data: Float32Array, rows: number, kind: "list" | "large" | "fixed") {
  const child = makeData({ type: new Float32(), length: data.length, data });
  const item = new Field("item", new Float32(), kind !== "fixed");
  if (kind === "fixed")
    return makeVector(makeData({ type: new FixedSizeList(DIM, item), length: rows, nullCount: 0, child }));
  const offsets = Array.from({ length: rows + 1 }, (_, r) => r * DIM);
  const type = kind === "large" ? new LargeList(item) : new List(item);
  const valueOffsets = kind === "large" ? BigInt64Array.from(offsets, BigInt) : Int32Array.from(offsets);
  return makeVector(makeData({ type, length: rows, nullCount: 0, valueOffsets, child } as never));
}

const hitsOf = (t: Table) => t.toArray().map((r) => [Number(r.query), BigInt(r.id), Number(r.distance)]);

describe("IPC written by arrow-rs (parquet-wasm 0.8.0) feeds the host", () => {
  let host: PluginHost;
  let reference: unknown[];
  beforeAll(async () => {
    host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("vector-flat-v1"));
    await host.load(await loadPlugin("types-v1"));
    const fixed = await host.createIndex(
      "reference",
      "vector.flat",
      new Table({ id: makeVector(ids), vector: listVector(values, ROWS, "fixed") }),
    );
    reference = hitsOf(await fixed.probe(new Table({ vector: listVector(queries, 2, "fixed") }), 4));
  });

  it("arrow-rs really wrote the Parquet file and the IPC stream (not apache-arrow's bytes passed through)", () => {
    const table = new Table({
      id: makeVector(ids),
      vector: listVector(values, ROWS, "large"),
      label: vectorFromArray(
        Array.from({ length: ROWS }, (_, i) => `row ${i}`),
        new LargeUtf8(),
      ),
    });
    const { parquetFile, ipc } = viaArrowRs(table);
    expect(new TextDecoder().decode(parquetFile.subarray(0, 4))).toBe("PAR1");
    expect(new TextDecoder().decode(parquetFile.subarray(-4))).toBe("PAR1");
    const apacheArrow = tableToIPC(table, "stream");
    expect(ipc.length).not.toBe(apacheArrow.length);
    // The host's check and reader take arrow-rs's layout, and the values survive.
    const summary = checkIPC(ipc);
    expect(summary.fields.map((f) => f.name)).toEqual(["id", "vector", "label"]);
    const back = fromIPC(ipc);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "id:Int64",
      "vector:LargeList<Float32>",
      "label:LargeUtf8",
    ]);
    expect([...(back.getChild("label") ?? [])]).toEqual(Array.from({ length: ROWS }, (_, i) => `row ${i}`));
    expect(tableFromIPC(ipc).numRows).toBe(ROWS);
  });

  for (const kind of ["list", "large"] as const) {
    it(`vector.flat builds from arrow-rs ${kind === "large" ? "LargeList" : "List"}<Float32> vectors next to an unused LargeUtf8 column`, async () => {
      const source = viaArrowRs(
        new Table({
          label: vectorFromArray(
            Array.from({ length: ROWS }, (_, i) => `label ${i}`),
            new LargeUtf8(),
          ),
          id: makeVector(ids),
          vector: listVector(values, ROWS, kind),
        }),
      ).ipc;
      expect(String(fromIPC(source).schema.fields[2]?.type)).toBe(
        kind === "large" ? "LargeList<Float32>" : "List<Float32>",
      );
      const index = await host.createIndex(`arrow-rs-${kind}`, "vector.flat", source);
      const query = viaArrowRs(new Table({ vector: listVector(queries, 2, kind) })).ipc;
      expect(hitsOf(fromIPC(await index.probeIPC(query, 4)))).toEqual(reference);
      await index.drop();
    });
  }

  it("logical types cast arrow-rs LargeUtf8 literals", async () => {
    const literals = viaArrowRs(
      new Table({ value: vectorFromArray(["POINT(13.4 52.5)", null, "POINT(-1 2)"], new LargeUtf8()) }),
    ).ipc;
    expect(String(fromIPC(literals).schema.fields[0]?.type)).toBe("LargeUtf8");
    const geo = host.logicalType("geo.point");
    const points = await geo.castFrom(literals);
    expect(await geo.toDisplay(points)).toEqual(["POINT(13.4 52.5)", null, "POINT(-1 2)"]);
    const uuid = host.logicalType("uuid");
    const ids = viaArrowRs(
      new Table({ value: vectorFromArray(["123E4567-E89B-12D3-A456-426614174000"], new LargeUtf8()) }),
    ).ipc;
    expect(await uuid.toDisplay(await uuid.castFrom(ids))).toEqual(["123e4567-e89b-12d3-a456-426614174000"]);
  });
});
