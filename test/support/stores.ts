/**
 * Every store adapter this runtime has, as factories of fresh, disposable stores, for the shared conformance suite
 * (`test/shared/store-*.test.ts`): memory everywhere; Node adds the file store and Deno KV through `@deno/kv`;
 * Deno adds Deno KV; Chromium adds IndexedDB. Each harness can reopen its data (a restart) and damage the stored
 * bytes underneath the store, as far as the medium allows.
 */
import { MemoryStorage, memoryStore } from "../../src/store/memory.ts";
import type { Key, StateStore } from "../../src/store/mod.ts";

/** Ways to damage what a store keeps, below the store (as a failing disk or a stray write would). */
export interface Damage {
  /** Flips the lowest bit of byte `offset` of blob `id`'s data. */
  flipBlobBit(id: string, offset: number): Promise<void>;
  /** Cuts blob `id`'s data to `length` bytes. */
  truncateBlob(id: string, length: number): Promise<void>;
  /** Removes one stored chunk of blob `id` (adapters that store blobs in chunks). */
  dropBlobChunk?(id: string, chunk: number): Promise<void>;
  /** Flips a bit in the stored value of record `key` (adapters whose records can be damaged in place). */
  flipRecordBit?(key: Key): Promise<void>;
}

export interface StoreHarness {
  readonly adapter: string;
  /** Opens a store on this harness's data: a second open after closing the first is a restart. */
  open(): Promise<StateStore>;
  readonly damage: Damage;
  /** Removes the data (close the stores first). */
  dispose(): Promise<void>;
}

export interface HarnessFactory {
  readonly adapter: string;
  /** Bytes of one stored blob chunk, for adapters with {@link Damage.dropBlobChunk}. */
  readonly chunkBytes?: number;
  create(): Promise<StoreHarness>;
}

function sameKey(a: Key, b: Key): boolean {
  return a.length === b.length && a.every((p, i) => typeof p === typeof b[i] && p === b[i]);
}

export const memoryFactory: HarnessFactory = {
  adapter: "memory",
  async create() {
    const storage = new MemoryStorage();
    const blob = (id: string) => {
      const b = storage.blobs.get(id);
      if (!b) throw new Error(`no blob ${id} to damage`);
      return b;
    };
    return {
      adapter: "memory",
      open: async () => memoryStore({ storage }),
      damage: {
        async flipBlobBit(id, offset) {
          (blob(id).data as Uint8Array)[offset] ^= 1;
        },
        async truncateBlob(id, length) {
          blob(id).data = blob(id).data.slice(0, length);
        },
        async flipRecordBit(key) {
          const rec = storage.records.values().find((r) => sameKey(r.key, key));
          if (!rec) throw new Error("no such record to damage");
          (rec.value as Uint8Array)[0] ^= 0x10;
        },
      },
      dispose: async () => {},
    };
  },
};

type Runtime = "node" | "deno" | "browser";

function runtime(): Runtime {
  const g = globalThis as { Deno?: unknown; document?: unknown; process?: { versions?: { node?: string } } };
  if (g.Deno !== undefined) return "deno";
  if (g.document !== undefined) return "browser";
  return "node";
}

/** Every adapter available in this runtime. */
export async function storeFactories(): Promise<HarnessFactory[]> {
  // Not a literal import: each provider imports runtime-only modules the other runtimes must not load or check.
  const provider = `./stores-${runtime()}.ts`;
  const mod = (await import(/* @vite-ignore */ provider)) as { factories(): HarnessFactory[] };
  return [memoryFactory, ...mod.factories()];
}
