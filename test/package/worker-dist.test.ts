// The worker layer as built: `npm run build` (tsc, then scripts/build-worker.mjs) leaves dist/worker/*.js
// pointing at the JavaScript entry (`./entry.js`, not the source's `./entry.ts`), and the built package runs
// worker-hosted instances from its own files: in Node through the Node adapter's default worker script, in
// Deno through the default Web Worker. Node only (it runs tsc, node and deno as child processes). The build
// goes to a scratch directory, not dist/: other test files are running workers from dist/ meanwhile.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(root, "node_modules", ".cache", "worker-dist-test");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  exports: Record<string, { import: string; types: string }>;
};

describe("built worker layer", () => {
  beforeAll(() => {
    // The build script, run as written, with its output directory moved to the scratch one.
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json && node scripts/build-worker.mjs dist");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", out], {
      cwd: root,
    });
    execFileSync(process.execPath, ["scripts/build-worker.mjs", out], { cwd: root });
  }, 180_000);

  it("points the default worker at entry.js, and exports the layer as uni-plugin-runtime/worker", () => {
    const factory = readFileSync(join(out, "worker", "factory.js"), "utf8");
    expect(factory).toContain('new Worker(new URL("./entry.js", import.meta.url), { type: "module" })');
    expect(factory).not.toContain("entry.ts");
    expect(readFileSync(join(out, "worker", "entry.js"), "utf8")).toContain("serveWorker()");
    expect(pkg.exports["./worker"]).toEqual({ types: "./dist/worker/mod.d.ts", import: "./dist/worker/mod.js" });
  });

  const script = (adapter: string) => `
    const { ComponentModule } = await import("${out}/component/mod.js");
    const { WorkerInstance } = await import("${out}/worker/mod.js");
    ${adapter}
    const bytes = new Uint8Array(await readBytes("${root}/plugins-wasm/dist/crdt-v1.wasm"));
    const module = await ComponentModule.compile(bytes);
    const w = await WorkerInstance.spawn(module, { pluginId: "dev.uni.crdt", grants: new Set(), ...factory });
    const state = await w.crdt.empty("g-counter");
    await state.apply(new Uint8Array([0x92, 0xa1, 0x61, 0x03])); // MessagePack ["a", 3]
    console.log(JSON.stringify({ channel: w.channel, value: [...(await state.value())], id: JSON.parse(await w.manifest()).id }));
    await w.dispose();
  `;

  it("runs a worker-hosted instance in Node from the built files (the Node adapter's own worker script)", () => {
    const code = script(`
      const { nodeWorkerFactory } = await import("${out}/adapters/node.js");
      const { readFile: readBytes } = await import("node:fs/promises");
      const factory = { workerFactory: nodeWorkerFactory() };
    `);
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ channel: "atomics", value: [3], id: "dev.uni.crdt" });
  });

  it("runs a worker-hosted instance in Deno from the built files (the default Web Worker on entry.js)", () => {
    const code = script(`
      const readBytes = (path) => Deno.readFile(path);
      const factory = {};
    `);
    const deno = join(root, "node_modules", ".bin", "deno");
    const run = spawnSync(deno, ["eval", "--quiet", code], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ channel: "atomics", value: [3], id: "dev.uni.crdt" });
  });
});
