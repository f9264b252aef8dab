// What the host does with Arrow IPC bytes from outside before apache-arrow decodes them: every declared length
// is bounded by the input (a real stream with one length field changed is refused, typed, and nothing enters
// the CDC log), and compressed IPC (LZ4_FRAME, ZSTD; real frames, made here) is refused, typed, naming the
// codec: by the host, by the Rust SDK (vector.flat) and by the AssemblyScript SDK (the types).
import {
  CompressionType,
  compressionRegistry,
  RecordBatchStreamWriter,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { checkIPC, fromIPC } from "../../src/arrow.ts";
import { ErrorCode, PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { mutationTable, vectorSource } from "./fuzz-util.ts";
import { expectRejects, expectThrows } from "./host-util.ts";

/** An LZ4 frame holding `data` in uncompressed blocks (valid LZ4: `lz4 -d` reads it). */
function lz4Frame(data: Uint8Array): Uint8Array {
  // magic, FLG (version 01, independent blocks), BD (64 KiB blocks), header checksum
  const header = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82];
  const out = new Uint8Array(header.length + 4 + data.length + 4);
  out.set(header);
  new DataView(out.buffer).setUint32(header.length, (0x80000000 | data.length) >>> 0, true);
  out.set(data, header.length + 4);
  return out;
}

/** A zstd frame holding `data` in one raw block (valid zstd: `zstd -d` reads it). */
function zstdFrame(data: Uint8Array): Uint8Array {
  // magic, descriptor (single segment, 2-byte content size), content size - 256, last raw block header
  const out = new Uint8Array(4 + 1 + 2 + 3 + data.length);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x60]);
  const dv = new DataView(out.buffer);
  dv.setUint16(5, data.length - 256, true); // callers pad to at least 256 bytes
  const block = 1 | (data.length << 3);
  out.set([block & 0xff, (block >> 8) & 0xff, (block >> 16) & 0xff], 7);
  out.set(data, 10);
  return out;
}

/** `table` as an IPC stream whose record batch bodies are compressed with `codec`. */
function compressed(table: Table, codec: CompressionType): Uint8Array {
  compressionRegistry.set(codec, {
    encode: (data: Uint8Array) => (codec === CompressionType.LZ4_FRAME ? lz4Frame(data) : zstdFrame(padTo256(data))),
  });
  try {
    return RecordBatchStreamWriter.writeAll(table, { compressionType: codec }).toUint8Array(true);
  } finally {
    compressionRegistry.set(codec, null as never);
  }
}

/** The 2-byte content size field holds size - 256, so the raw zstd frames here carry at least 256 bytes. */
function padTo256(data: Uint8Array): Uint8Array {
  return data.length >= 256 ? data : Uint8Array.from({ length: 256 }, (_, i) => data[i] ?? 0);
}

describe("Arrow IPC from outside is checked before it is decoded", () => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost({ onLog: () => {} });
    for (const name of ["vector-flat-v1", "types-v1", "changelog-v1"]) await host.load(await loadPlugin(name));
  });
  afterAll(() => host.dispose());

  it("refuses a stream whose body length field says 2 GiB, and nothing enters the CDC log", async () => {
    const ipc = tableToIPC(mutationTable(3), "stream");
    // The record batch message: its metadata says how long its body is (Message.bodyLength, an i64). Find the
    // body length apache-arrow wrote and make it claim 2^31 bytes.
    const bodyLength = ipc.length - 8 - firstRecordBatchBodyStart(ipc);
    const at = findI64(ipc, BigInt(bodyLength), firstRecordBatchBodyStart(ipc) - 200);
    const forged = ipc.slice();
    new DataView(forged.buffer).setBigInt64(at, 2n ** 31n, true);
    expectThrows(() => fromIPC(forged), {
      code: ErrorCode.TypeCoercion,
      message: ["fromIPC: not valid Arrow IPC: message body of 2147483648 bytes", "runs past the end"],
    });
    const stream = await host.attachCdc("bounded", "changelog");
    await expectRejects(stream.publish(forged), {
      code: ErrorCode.TypeCoercion,
      message: ['cdc stream "bounded" refused the batch', "runs past the end", "nothing was logged"],
    });
    expect(stream.nextLsn).to.equal(0n);
    expect(stream.retainedBatches).to.equal(0);
    await stream.publish(mutationTable(2));
    expect(stream.nextLsn).to.equal(2n);
  });

  it("refuses a buffer that claims more bytes than the body holds, naming the column and type", () => {
    const ipc = tableToIPC(new Table({ name: vectorFromArray(["a", "bb", "ccc"], new Utf8()) }), "stream");
    const start = firstRecordBatchBodyStart(ipc);
    // The Utf8 column's data buffer ("abbccc", 6 bytes, written padded to 8) is the batch's last Buffer struct
    // (offset, length): its length is the last i64 of 6 or 8 in the batch metadata.
    const at = Math.max(findI64(ipc, 6n, start - 160, start, true), findI64(ipc, 8n, start - 160, start, true));
    const forged = ipc.slice();
    new DataView(forged.buffer).setBigInt64(at, 1n << 40n, true);
    const err = expectThrows(() => checkIPC(forged), { code: ErrorCode.TypeCoercion });
    expect(err.message).to.contain("the data buffer of column 'name' [");
    expect(err.message).to.contain("lies outside the");
  });

  for (const [codec, name] of [
    [CompressionType.LZ4_FRAME, "LZ4_FRAME"],
    [CompressionType.ZSTD, "ZSTD"],
  ] as const) {
    it(`refuses ${name}-compressed IPC, typed and naming the codec, in the host and both SDKs`, async () => {
      const source = compressed(vectorSource(), codec);
      const literals = compressed(new Table({ value: vectorFromArray(["POINT(1 2)"], new Utf8()) }), codec);
      // really compressed: the batch says so, and apache-arrow itself cannot read it without a codec
      expect(() => tableFromIPC(source)).to.throw(/codec not found/);
      expectThrows(() => fromIPC(source), {
        code: ErrorCode.TypeCoercion,
        message: [`record batch 0 is compressed (${name})`, "write the stream without compression"],
      });
      const fromRust = await expectRejects(host.createIndex(`compressed-${name}`, "vector.flat", source), {
        code: ErrorCode.TypeCoercion,
        message: [`record batch 0 is compressed (${name})`, "uncompressed Arrow IPC only"],
      });
      expect(fromRust).to.be.instanceOf(PluginCallError);
      await expectRejects(host.logicalType("geo.point").castFrom(literals), {
        code: ErrorCode.TypeCoercion,
        message: [`record batch 0 is compressed (${name})`, "uncompressed Arrow IPC only"],
      });
    });
  }
});

/** Where the first record batch's body starts: after the schema message (no body) and the batch's metadata. */
function firstRecordBatchBodyStart(ipc: Uint8Array): number {
  const dv = new DataView(ipc.buffer, ipc.byteOffset);
  const batchAt = 8 + dv.getInt32(4, true);
  return batchAt + 8 + dv.getInt32(batchAt + 4, true);
}

/** The first (or last) 4-aligned little-endian i64 equal to `value` in [from, to); -1 for none when `last`. */
function findI64(bytes: Uint8Array, value: bigint, from: number, to = bytes.length, last = false): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  let found = -1;
  for (let at = Math.max(0, from) & ~3; at + 8 <= to; at += 4) {
    if (dv.getBigInt64(at, true) !== value) continue;
    if (!last) return at;
    found = at;
  }
  if (found < 0 && !last) throw new Error(`no i64 ${value} in [${from}, ${to})`);
  return found;
}
