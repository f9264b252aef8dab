// Chromium subjects: memory, IndexedDB with blob data in IndexedDB, and with blob data in OPFS. Bundled and run in
// Debian's Chromium by ../store-measure.mjs; reports through window.storeMeasure.
import { indexedDbStore } from "../../src/adapters/indexeddb.ts";
import { MemoryStorage, memoryStore } from "../../src/store/memory.ts";
import { measure, type Subject } from "./core.ts";

const lines: string[] = [];
const print = (l: string) => {
  lines.push(l);
  console.log(l);
};
const params = new URLSearchParams(location.search);
const storage = new MemoryStorage();
const idb = (blobs: "opfs" | "indexeddb"): Subject => {
  const name = `store-measure-${blobs}-${Date.now()}`;
  return {
    name: blobs === "opfs" ? "indexeddb+opfs" : "indexeddb",
    open: async () => indexedDbStore(name, { blobs }),
    dispose: async () => {
      indexedDB.deleteDatabase(name);
      await (await navigator.storage.getDirectory())
        .removeEntry(`uni-store-${name}`, { recursive: true })
        .catch(() => {});
    },
  };
};
(async () => {
  try {
    await measure(
      [
        { name: "chromium memory", open: async () => memoryStore({ storage }), dispose: async () => {} },
        idb("indexeddb"),
        idb("opfs"),
      ],
      { seconds: Number(params.get("seconds") ?? 3), blobMiB: 64, concurrency: [1, 16, 128], print },
      { journal: params.get("blobsOnly") !== "1" },
    );
    (window as unknown as { storeMeasure: unknown }).storeMeasure = { lines };
  } catch (err) {
    (window as unknown as { storeMeasure: unknown }).storeMeasure = {
      lines,
      error: String((err as Error)?.stack ?? err),
    };
  }
})();
