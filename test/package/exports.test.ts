// The package as a consumer sees it: `npm ci` runs `prepare` (tsc → dist/), and the exports map resolves the
// root entry and the Node adapter to working ESM with type declarations. Node only (it spawns node).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("package exports", () => {
  it("resolve uni-plugin-runtime and uni-plugin-runtime/node to built ESM with .d.ts", () => {
    expect(existsSync(`${root}/dist/mod.d.ts`)).toBe(true);
    expect(existsSync(`${root}/dist/adapters/node.d.ts`)).toBe(true);
    const script = `
      const { PluginHost, ErrorCode } = await import("uni-plugin-runtime");
      const { createNodeHost } = await import("uni-plugin-runtime/node");
      const host = createNodeHost();
      const h = await host.load("plugins-wasm/dist/crdt-v1.wasm");
      const s = await host.createCrdt("n", "g-counter");
      await s.apply(["a", 3]);
      console.log(JSON.stringify({ host: host instanceof PluginHost, id: h.id, value: await s.value(), trap: ErrorCode.Trap }));
    `;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({ host: true, id: "dev.uni.crdt", value: 3, trap: 0x48 });
  });
});
