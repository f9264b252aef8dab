// Deno subjects: memory and Deno KV on a local file. Run directly by Deno from ../store-measure.mjs.
import { denoKvStore, type DenoKvLike } from "../../src/adapters/deno-kv.ts";
import { MemoryStorage, memoryStore } from "../../src/store/memory.ts";
import { measure } from "./core.ts";

declare const Deno: {
  args: string[];
  env: { get(k: string): string | undefined };
  openKv(path: string): Promise<DenoKvLike>;
  makeTempDir(o: { prefix: string; dir?: string }): Promise<string>;
  remove(p: string, o: { recursive: boolean }): Promise<void>;
};

const dir = await Deno.makeTempDir({ prefix: "uni-store-measure-denokv-", dir: Deno.env.get("STORE_MEASURE_DIR") });
const storage = new MemoryStorage();
await measure(
  [
    { name: "deno memory", open: async () => memoryStore({ storage }), dispose: async () => {} },
    {
      name: "deno-kv (Deno)",
      open: async () => denoKvStore(await Deno.openKv(`${dir}/kv.sqlite3`), { closeKv: true }),
      dispose: () => Deno.remove(dir, { recursive: true }),
    },
  ],
  {
    seconds: Number(Deno.env.get("STORE_MEASURE_SECONDS") ?? 3),
    blobMiB: 64,
    concurrency: [1, 16, 128],
    print: (l) => console.log(l),
  },
  { journal: !Deno.args.includes("--blobs-only") },
);
