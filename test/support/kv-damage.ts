/** Damages a store kept in Deno KV through a second connection to the same database (Deno or `@deno/kv`). */
import type { DenoKvLike, KvKey } from "../../src/adapters/deno-kv.ts";
import type { Key } from "../../src/store/mod.ts";
import type { Damage } from "./stores.ts";

export const KV_CHUNK = 65_536;
const P = "uni-store";

async function must(kv: DenoKvLike, key: KvKey): Promise<Uint8Array> {
  const e = await kv.get(key);
  if (!(e.value instanceof Uint8Array)) throw new Error(`nothing to damage at ${String(key)}`);
  return Uint8Array.from(e.value);
}

export function kvDamage(kv: DenoKvLike): Damage {
  const chunk = (id: string, i: number): KvKey => [P, "bd", id, i];
  const set = async (key: KvKey, value: Uint8Array) => {
    const res = await kv.atomic().set(key, value).commit();
    if (!res.ok) throw new Error("damage write refused");
  };
  return {
    async flipBlobBit(id, offset) {
      const i = Math.floor(offset / KV_CHUNK);
      const bytes = await must(kv, chunk(id, i));
      bytes[offset % KV_CHUNK] ^= 1;
      await set(chunk(id, i), bytes);
    },
    async truncateBlob(id, length) {
      const keep = Math.ceil(length / KV_CHUNK);
      for await (const e of kv.list({ prefix: [P, "bd", id] })) {
        const i = e.key[e.key.length - 1] as number;
        if (i >= keep) await kv.atomic().delete(e.key).commit();
      }
      if (length % KV_CHUNK !== 0) {
        const last = await must(kv, chunk(id, keep - 1));
        await set(chunk(id, keep - 1), last.slice(0, length % KV_CHUNK));
      }
    },
    async dropBlobChunk(id, i) {
      await kv.atomic().delete(chunk(id, i)).commit();
    },
    async flipRecordBit(key: Key) {
      const k = [P, "r", ...key];
      const bytes = await must(kv, k);
      bytes[0] ^= 0x10;
      await set(k, bytes);
    },
  };
}
