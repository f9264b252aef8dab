// Node-only (spawns node on the built package): the store's entry points resolve through the exports map to
// working ESM with type declarations: uni-plugin-runtime/store, /node (file store), /deno-kv, /browser.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("store package exports", () => {
  it("resolve to built ESM with .d.ts, and work", () => {
    for (const d of ["store/mod", "adapters/node", "adapters/deno-kv", "adapters/indexeddb"]) {
      expect(existsSync(`${root}/dist/${d}.d.ts`), `dist/${d}.d.ts (run npm run build)`).toBe(true);
    }
    const script = `
      import { mkdtemp, rm } from "node:fs/promises";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      const { memoryStore, Journal, StoreError } = await import("uni-plugin-runtime/store");
      const { fileStore } = await import("uni-plugin-runtime/node");
      const { denoKvStore } = await import("uni-plugin-runtime/deno-kv");
      const { indexedDbStore } = await import("uni-plugin-runtime/browser");
      const { openKv } = await import("@deno/kv");
      const dir = await mkdtemp(join(tmpdir(), "uni-store-exports-"));
      const out = {};
      for (const [name, store] of [
        ["memory", memoryStore()],
        ["fs", fileStore(dir)],
        ["deno-kv", denoKvStore(await openKv(join(dir, "kv.sqlite3")), { closeKv: true })],
      ]) {
        const j = await Journal.open(store, ["j"]);
        await Promise.all([j.append(new Uint8Array([1])), j.append(new Uint8Array([2]))]);
        const { id } = await store.putBlob(new Uint8Array(10).fill(3));
        await store.commit({ mutations: [{ type: "set", key: ["x"], value: new Uint8Array([9]), blobs: [id] }] });
        out[name] = [store.adapter, (await store.get(["x"])).blobs[0] === id, j.nextSeq.toString()];
        await store.close();
      }
      let err;
      try { await memoryStore().get([NaN]); } catch (e) { err = e; }
      out.error = [err instanceof StoreError, err.code];
      out.browser = typeof indexedDbStore;
      await rm(dir, { recursive: true, force: true });
      console.log(JSON.stringify(out));
    `;
    const res = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual({
      memory: ["memory", true, "2"],
      fs: ["fs", true, "2"],
      "deno-kv": ["deno-kv", true, "2"],
      error: [true, 0x02],
      browser: "function",
    });
  });
});
