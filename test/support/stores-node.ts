/** Node's store adapters for the shared suite: the file store, and Deno KV through `@deno/kv` on a local file. */
import { mkdtemp, open, readFile, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { openFileStore } from "../../src/adapters/node-fs.ts";
import { KV_CHUNK, kvDamage } from "./kv-damage.ts";
import type { HarnessFactory } from "./stores.ts";

/** Where blob `id`'s data starts in its file: after the 8-byte header and the manifest. */
async function blobDataStart(path: string): Promise<number> {
  const head = await readFile(path);
  return 8 + head.readUInt32LE(4);
}

const fsFactory: HarnessFactory = {
  adapter: "fs",
  async create() {
    const dir = await mkdtemp(join(tmpdir(), "uni-store-fs-"));
    const blobPath = (id: string) => join(dir, "blobs", id);
    return {
      adapter: "fs",
      open: () => openFileStore(dir),
      damage: {
        async flipBlobBit(id, offset) {
          const at = (await blobDataStart(blobPath(id))) + offset;
          const fh = await open(blobPath(id), "r+");
          const one = new Uint8Array(1);
          await fh.read(one, 0, 1, at);
          one[0] ^= 1;
          await fh.write(one, 0, 1, at);
          await fh.close();
        },
        async truncateBlob(id, length) {
          await truncate(blobPath(id), (await blobDataStart(blobPath(id))) + length);
        },
      },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

const nodeKvFactory: HarnessFactory = {
  adapter: "deno-kv (@deno/kv)",
  chunkBytes: KV_CHUNK,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), "uni-store-kv-"));
    const path = join(dir, "kv.sqlite3");
    const raw = await openKv(path);
    return {
      adapter: "deno-kv (@deno/kv)",
      open: async () => denoKvStore(await openKv(path), { closeKv: true }),
      damage: kvDamage(raw),
      async dispose() {
        raw.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

export function factories(): HarnessFactory[] {
  return [fsFactory, nodeKvFactory];
}
