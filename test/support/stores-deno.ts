/**
 * Deno's store adapter for the shared suite: Deno KV on a local file under test-results/deno-store (the only
 * place `deno task test` may write; it needs `--unstable-kv`).
 */
import { denoKvStore, type DenoKvLike } from "../../src/adapters/deno-kv.ts";
import { KV_CHUNK, kvDamage } from "./kv-damage.ts";
import type { HarnessFactory } from "./stores.ts";

declare const Deno: {
  openKv(path: string): Promise<DenoKvLike>;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
};

const ROOT = "test-results/deno-store";

const denoKvFactory: HarnessFactory = {
  adapter: "deno-kv",
  chunkBytes: KV_CHUNK,
  async create() {
    const dir = `${ROOT}/${crypto.randomUUID()}`;
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/kv.sqlite3`;
    const raw = await Deno.openKv(path);
    return {
      adapter: "deno-kv",
      open: async () => denoKvStore(await Deno.openKv(path), { closeKv: true }),
      damage: kvDamage(raw),
      async dispose() {
        raw.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
};

export function factories(): HarnessFactory[] {
  return [denoKvFactory];
}
