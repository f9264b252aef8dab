// Node-only (spawns node on the built package): `uni-plugin-runtime/fleet` resolves through the exports map to
// working ESM with type declarations, and a one-node fleet runs from it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("fleet package export", () => {
  it("resolves to built ESM with .d.ts, and a node joins a fleet through it", () => {
    expect(existsSync(`${root}/dist/fleet/mod.d.ts`), "dist/fleet/mod.d.ts (run npm run build)").toBe(true);
    const script = `
      import { readFile } from "node:fs/promises";
      const { PluginHost } = await import("uni-plugin-runtime");
      const { memoryStore } = await import("uni-plugin-runtime/store");
      const { FleetControl, FleetNode, nodeNamespace, readFleetStatus } = await import("uni-plugin-runtime/fleet");
      const store = memoryStore();
      const installed = await new FleetControl(store).rollout(await readFile("plugins-wasm/dist/crdt-v1.wasm"));
      const host = new PluginHost({ store, namespace: nodeNamespace("solo"), onLog: () => {} });
      const node = new FleetNode({ host, store, nodeId: "solo", runtime: "node" });
      await node.start();
      const status = await readFleetStatus(store);
      await node.stop();
      host.dispose();
      console.log(JSON.stringify({ installed, serving: status.plugins[0].serving, runtime: status.nodes[0].runtime }));
    `;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({
      installed: { pluginId: "dev.uni.crdt", version: "1.0.0", installed: true },
      serving: { "1.0.0": ["solo"] },
      runtime: "node",
    });
  });
});
