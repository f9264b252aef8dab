/**
 * Tables from a second copy of apache-arrow (the same version installed twice, as bundlers produce): the host
 * rebuilds them in its own copy before writing, so an index builds from one and a CDC sink receives bytes any
 * reader reads; something it cannot rebuild is refused, typed, naming the column and type.
 *
 * Node-only: the second copy is made for real, by copying the installed package (and its dependencies) under
 * a temporary node_modules and importing it from there, which needs the file system.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as thisArrow from "apache-arrow";
import { Table, tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toIPC } from "../../src/arrow.ts";
import { ErrorCode, PluginError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

type Arrow = typeof import("apache-arrow");
const installed = fileURLToPath(new URL("../../node_modules/", import.meta.url));

describe("a Table from another copy of apache-arrow", () => {
  let dir: string;
  let other: Arrow;
  let host: PluginHost;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "second-arrow-"));
    for (const pkg of ["apache-arrow", "flatbuffers", "tslib", "json-with-bigint"]) {
      await cp(join(installed, pkg), join(dir, "node_modules", pkg), { recursive: true });
    }
    other = (await import(pathToFileURL(join(dir, "node_modules/apache-arrow/Arrow.node.mjs")).href)) as Arrow;
    host = new PluginHost({ onLog: () => {} });
    await host.load(await loadPlugin("vector-flat-v1"));
    await host.load(await loadPlugin("changelog-v1"));
  });
  afterAll(async () => {
    host.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  function vectorTable(arrow: Arrow): Table {
    const values = Float32Array.from({ length: 12 * 4 }, (_, i) => Math.sin(i));
    const child = arrow.makeData({ type: new arrow.Float32(), length: values.length, data: values });
    const type = new arrow.FixedSizeList(4, new arrow.Field("item", new arrow.Float32(), false));
    return new arrow.Table({
      id: arrow.makeVector(BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i + 1))),
      vector: arrow.makeVector(arrow.makeData({ type, length: 12, nullCount: 0, child })),
      label: arrow.vectorFromArray(
        Array.from({ length: 12 }, (_, i) => (i % 3 ? `row ${i}` : null)),
        new arrow.LargeUtf8(),
      ),
    }) as unknown as Table;
  }

  it("really is another copy: its classes are not this one's, yet instanceof says yes", () => {
    const foreign = vectorTable(other);
    expect(other.Table).not.toBe(Table);
    expect(Object.getPrototypeOf(foreign)).not.toBe(Table.prototype);
    expect(foreign instanceof Table).toBe(true); // apache-arrow compares Symbol.for markers
  });

  it("is written as IPC any reader reads, equal to the same table built with this copy", () => {
    const foreign = toIPC(vectorTable(other));
    const local = toIPC(vectorTable(thisArrow));
    const back = tableFromIPC(foreign);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "id:Int64",
      "vector:FixedSizeList[4]<Float32>",
      "label:LargeUtf8",
    ]);
    expect(
      back.toArray().map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? `${v}` : v))),
    ).toEqual(
      tableFromIPC(local)
        .toArray()
        .map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === "bigint" ? `${v}` : v))),
    );
  });

  it("builds an index and probes with foreign tables, as with local ones", async () => {
    const fromForeign = await host.createIndex("foreign", "vector.flat", vectorTable(other));
    const query = new other.Table({ vector: vectorTable(other).getChild("vector") as never }) as unknown as Table;
    const hits = (await fromForeign.probe(query, 3)).toArray().map((r) => `${r.query}:${r.id}:${r.distance}`);
    expect(hits).toHaveLength(12 * 3);
    // each row is its own nearest neighbour, at distance 0
    for (let q = 0; q < 12; q++) expect(hits[q * 3]).toBe(`${q}:${q + 1}:0`);
  });

  it("publishes a foreign table to a CDC sink as readable bytes", async () => {
    const stream = await host.attachCdc("foreign-cdc", "changelog");
    const payloads: Uint8Array[] = [];
    stream.onEmit((e) => payloads.push(e.payload));
    const mutations = new other.Table({
      op: other.vectorFromArray(["insert", "delete"], new other.Utf8()),
    }) as unknown as Table;
    await stream.publish(mutations, 1n);
    await stream.checkpoint();
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.some((p) => tableFromIPC(p).getChild("op")?.toArray().join(",") === "insert,delete")).toBe(true);
  });

  it("refuses, typed, a foreign object it cannot rebuild, naming the column and type", () => {
    const broken = vectorTable(other);
    // a type this host has no class for (as a newer apache-arrow might bring), in a copy that is not this one
    Object.defineProperty(broken.schema.fields[2]?.type as object, "typeId", { value: 99 });
    let err: unknown;
    try {
      toIPC(broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).code).toBe(ErrorCode.TypeCoercion);
    expect((err as PluginError).message).toContain("another copy of apache-arrow");
    expect((err as PluginError).message).toContain("column 'label' is LargeUtf8, which this host cannot rebuild");
  });
});
