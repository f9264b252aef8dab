// Node subjects: memory, the file store, Deno KV through @deno/kv. Bundled and run by ../store-measure.mjs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "@deno/kv";
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { openFileStore } from "../../src/adapters/node-fs.ts";
import { MemoryStorage, memoryStore } from "../../src/store/memory.ts";
import { measure, type Subject } from "./core.ts";

const args = process.argv.slice(2);
const seconds = Number(process.env.STORE_MEASURE_SECONDS ?? 3);
const base = process.env.STORE_MEASURE_DIR ?? tmpdir();
const dirs: string[] = [];
const temp = async (name: string) => {
  const d = await mkdtemp(join(base, `uni-store-measure-${name}-`));
  dirs.push(d);
  return d;
};

const storage = new MemoryStorage();
const fsDir = await temp("fs");
const kvDir = await temp("kv");
const subjects: Subject[] = [
  { name: "memory", open: async () => memoryStore({ storage }), dispose: async () => {} },
  { name: "fs", open: () => openFileStore(fsDir), dispose: () => rm(fsDir, { recursive: true, force: true }) },
  {
    name: "deno-kv (@deno/kv)",
    open: async () => denoKvStore(await openKv(join(kvDir, "kv.sqlite3")), { closeKv: true }),
    dispose: () => rm(kvDir, { recursive: true, force: true }),
  },
];
const only = args.filter((a) => !a.startsWith("--"));
await measure(
  subjects.filter((s) => only.length === 0 || only.includes(s.name.split(" ")[0] as string)),
  { seconds, blobMiB: 64, concurrency: [1, 16, 128], print: (l) => console.log(l) },
  { journal: !args.includes("--blobs-only") },
);
for (const d of dirs) await rm(d, { recursive: true, force: true });
