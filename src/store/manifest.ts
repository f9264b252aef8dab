/**
 * Blob manifests: a blob is cut into chunks of {@link BLOB_CHUNK_BYTES}, each hashed with SHA-256; the manifest
 * lists the size, the chunk size and every chunk's hash, and the blob's id is the SHA-256 of the manifest (a
 * one-level hash tree). So the id names the content, every chunk is checked on read without hashing the whole
 * blob in one pass, and chunks hash in parallel.
 *
 * Manifest layout (little-endian): `"UPB1"`, `u32 chunk size`, `u64 size`, `u32 chunk count`, 32 bytes per chunk.
 *
 * @module
 */
import { ByteReader, ByteWriter, toHex } from "./bytes-io.ts";
import { corrupt } from "./errors.ts";

/** The hashing chunk: big enough that hashing is not dominated by per-call cost, small enough to hash in parallel. */
export const BLOB_CHUNK_BYTES = 1 << 20;
const MAGIC = 0x31425055; // "UPB1" read little-endian
const DIGEST_BYTES = 32;
/** Digests in flight at once: enough to keep every core busy without copying a whole huge blob at once. */
const HASH_CONCURRENCY = 8;

export interface Manifest {
  readonly size: number;
  readonly chunkSize: number;
  readonly digests: readonly Uint8Array[];
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** SHA-256 of each `chunkSize` slice of `data`, computed a few at a time. */
async function chunkDigests(data: Uint8Array, chunkSize: number): Promise<Uint8Array[]> {
  const count = Math.ceil(data.length / chunkSize);
  const out = new Array<Uint8Array>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      out[i] = await sha256(data.subarray(i * chunkSize, Math.min(data.length, (i + 1) * chunkSize)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, count) }, worker));
  return out;
}

/** The manifest of `data` and the blob id it gives. */
export async function describeBlob(
  data: Uint8Array,
  chunkSize = BLOB_CHUNK_BYTES,
): Promise<{ id: string; manifest: Uint8Array }> {
  const digests = await chunkDigests(data, chunkSize);
  const w = new ByteWriter(20 + DIGEST_BYTES * digests.length)
    .u32(MAGIC)
    .u32(chunkSize)
    .u64(data.length)
    .u32(digests.length);
  for (const d of digests) w.bytes(d);
  const manifest = w.finish().slice();
  return { id: toHex(await sha256(manifest)), manifest };
}

/**
 * Parses a manifest after checking that it hashes to `id`.
 *
 * # Errors
 * `Corrupt` when the manifest does not hash to `id` or is malformed.
 */
export async function readManifest(id: string, manifest: Uint8Array): Promise<Manifest> {
  if (toHex(await sha256(manifest)) !== id) throw corrupt(`blob ${id}: its manifest is damaged`, { blob: id });
  const r = new ByteReader(manifest, `blob ${id} manifest`);
  if (r.u32() !== MAGIC) throw corrupt(`blob ${id}: not a blob manifest`, { blob: id });
  const chunkSize = r.u32();
  const size = Number(r.u64());
  const count = r.u32();
  if (chunkSize === 0 || count !== Math.ceil(size / chunkSize) || r.remaining !== count * DIGEST_BYTES) {
    throw corrupt(`blob ${id}: malformed manifest`, { blob: id });
  }
  const digests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) digests.push(r.bytes(DIGEST_BYTES));
  return { size, chunkSize, digests };
}

/**
 * Checks `data` against its manifest: the size, then every chunk's SHA-256.
 *
 * # Errors
 * `Corrupt` naming the first damaged chunk, or the size mismatch (a truncated or over-long blob).
 */
export async function verifyBlob(id: string, manifest: Manifest, data: Uint8Array): Promise<void> {
  if (data.length !== manifest.size) {
    throw corrupt(
      `blob ${id} is ${data.length} bytes, its manifest says ${manifest.size} (truncated or missing chunks)`,
      {
        blob: id,
      },
    );
  }
  const actual = await chunkDigests(data, manifest.chunkSize);
  for (let i = 0; i < actual.length; i++) {
    const want = manifest.digests[i] as Uint8Array;
    const got = actual[i] as Uint8Array;
    for (let j = 0; j < DIGEST_BYTES; j++) {
      if (want[j] !== got[j]) {
        throw corrupt(`blob ${id}: chunk ${i} (bytes ${i * manifest.chunkSize}..) fails its SHA-256`, { blob: id });
      }
    }
  }
}

const BLOB_ID = /^[0-9a-f]{64}$/;

export function isBlobId(id: unknown): id is string {
  return typeof id === "string" && BLOB_ID.test(id);
}
