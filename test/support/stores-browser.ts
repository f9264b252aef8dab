/** The browser's store adapter for the shared suite: IndexedDB, with blob data in OPFS and in IndexedDB itself. */
import { type IDBPDatabase, openDB } from "idb";
import { indexedDbStore } from "../../src/adapters/indexeddb.ts";
import { encodeKey } from "../../src/store/keys.ts";
import type { Damage, HarnessFactory } from "./stores.ts";

const PART = 4 << 20;

interface BlobMeta {
  manifest: Uint8Array;
  touchedAt: number;
  file: string | null;
}

async function blobMeta(db: IDBPDatabase, id: string): Promise<BlobMeta> {
  const meta = (await db.get("blobs", id)) as BlobMeta | undefined;
  if (!meta) throw new Error(`no blob ${id} to damage`);
  return meta;
}

async function opfsFile(name: string, file: string): Promise<FileSystemFileHandle> {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(`uni-store-${name}`);
  return await dir.getFileHandle(file);
}

function damage(name: string): Damage {
  const db = () => openDB(name);
  return {
    async flipBlobBit(id, offset) {
      const raw = await db();
      const meta = await blobMeta(raw, id);
      if (meta.file) {
        const handle = await opfsFile(name, meta.file);
        const one = new Uint8Array(await (await handle.getFile()).slice(offset, offset + 1).arrayBuffer());
        one[0] ^= 1;
        const w = await handle.createWritable({ keepExistingData: true });
        await w.write({ type: "write", position: offset, data: one });
        await w.close();
      } else {
        const key = [id, Math.floor(offset / PART)];
        const part = Uint8Array.from((await raw.get("chunks", key)) as Uint8Array);
        part[offset % PART] ^= 1;
        await raw.put("chunks", part, key);
      }
      raw.close();
    },
    async truncateBlob(id, length) {
      const raw = await db();
      const meta = await blobMeta(raw, id);
      if (meta.file) {
        const w = await (await opfsFile(name, meta.file)).createWritable({ keepExistingData: true });
        await w.truncate(length);
        await w.close();
      } else {
        const keep = Math.ceil(length / PART);
        await raw.delete("chunks", IDBKeyRange.bound([id, keep], [id, Number.MAX_SAFE_INTEGER]));
        if (length % PART !== 0) {
          const part = (await raw.get("chunks", [id, keep - 1])) as Uint8Array;
          await raw.put("chunks", part.slice(0, length % PART), [id, keep - 1]);
        }
      }
      raw.close();
    },
    async dropBlobChunk(id, i) {
      const raw = await db();
      await raw.delete("chunks", [id, i]);
      raw.close();
    },
    async flipRecordBit(key) {
      const raw = await db();
      const k = encodeKey(key) as Uint8Array<ArrayBuffer>;
      const rec = (await raw.get("records", k)) as { v: Uint8Array; c: number };
      const v = Uint8Array.from(rec.v);
      v[0] ^= 0x10;
      await raw.put("records", { ...rec, v }, k);
      raw.close();
    },
  };
}

function factory(blobs: "opfs" | "indexeddb"): HarnessFactory {
  const adapter = blobs === "opfs" ? "indexeddb+opfs" : "indexeddb";
  return {
    adapter,
    ...(blobs === "indexeddb" ? { chunkBytes: PART } : {}),
    async create() {
      const name = `store-test-${crypto.randomUUID()}`;
      const d = damage(name);
      return {
        adapter,
        open: async () => indexedDbStore(name, { blobs }),
        damage: blobs === "opfs" ? { ...d, dropBlobChunk: undefined } : d,
        async dispose() {
          await new Promise<void>((resolve, reject) => {
            const req = indexedDB.deleteDatabase(name);
            req.onsuccess = () => resolve();
            req.onerror = () => reject(req.error);
          });
          const root = await navigator.storage.getDirectory();
          await root.removeEntry(`uni-store-${name}`, { recursive: true }).catch(() => {});
        },
      };
    },
  };
}

export function factories(): HarnessFactory[] {
  return [factory("opfs"), factory("indexeddb")];
}
