// The package as a consumer sees it: `npm ci` runs `prepare` (tsc → dist/), and the exports map resolves the
// root entry and the Node adapter to working ESM with type declarations. Node only (it spawns node).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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

describe("published types", () => {
  const consumers = {
    public: `
      import { PluginHost, ErrorCode, type ReloadReport } from "uni-plugin-runtime";
      const host = new PluginHost({ drainTimeoutMs: 100 });
      const handle = await host.load(new Uint8Array());
      const idx = await host.createIndex("n", "vector.flat", new Uint8Array(), { metric: "l2" });
      const rows: number = (await idx.probe(new Uint8Array(), 3)).numRows;
      const likes = await host.createCrdt("likes", "pn-counter");
      await likes.apply(["a", 1]);
      const report: ReloadReport = await host.reload(handle, new Uint8Array(), { dryRun: true });
      export const used = [rows, report.ok, ErrorCode.Trap, likes.servedBy.generation];
    `,
    internal: `
      import { PluginHost, component } from "uni-plugin-runtime";
      const host = new PluginHost();
      const idx = await host.createIndex("n", "vector.flat", new Uint8Array());
      const instance = await component.ComponentInstance.instantiate(
        await component.ComponentModule.compile(new Uint8Array()), { pluginId: "x", grants: new Set() });
      export const leaks = [host.entries, idx.handle, idx.entry, instance.core, idx.survivesTrap];
    `,
  };
  let diagnostics: Promise<Record<keyof typeof consumers, string[]>> | undefined;

  /** Type-checks both consumers of the built package in one program; the diagnostics' texts per consumer. */
  function typecheck(): Promise<Record<keyof typeof consumers, string[]>> {
    diagnostics ??= (async () => {
      const ts = (await import("typescript")).default;
      const dir = `${root}/node_modules/.cache/dts-consumer`;
      mkdirSync(dir, { recursive: true });
      for (const [name, source] of Object.entries(consumers)) writeFileSync(`${dir}/${name}.ts`, source);
      const program = ts.createProgram(
        Object.keys(consumers).map((name) => `${dir}/${name}.ts`),
        {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          module: ts.ModuleKind.ESNext,
          moduleResolution: ts.ModuleResolutionKind.Bundler,
          target: ts.ScriptTarget.ES2022,
          lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
          types: [],
        },
      );
      const out = { public: [] as string[], internal: [] as string[] };
      for (const d of ts.getPreEmitDiagnostics(program)) {
        const file = d.file?.fileName ?? "";
        if (file.includes("/node_modules/apache-arrow/")) continue; // a dependency's own types are not ours to judge
        const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
        (file.endsWith("/internal.ts") ? out.internal : out.public).push(`${file}: ${text}`);
      }
      return out;
    })();
    return diagnostics;
  }

  it("carry no @internal member, and what users call type-checks without skipLibCheck", async () => {
    const leaked = readdirSync(`${root}/dist`, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".d.ts"))
      .filter((f) => readFileSync(`${root}/dist/${f}`, "utf8").includes("@internal"));
    expect(leaked).toEqual([]);
    expect((await typecheck()).public).toEqual([]);
  });

  it("hide the host's plumbing: internal members are not part of the published API", async () => {
    const errors = (await typecheck()).internal;
    for (const member of ["entries", "handle", "entry", "core", "survivesTrap"]) {
      expect(
        errors.some((e) => e.includes(`Property '${member}' does not exist`)),
        `${member}: ${errors.join("\n")}`,
      ).toBe(true);
    }
  });
});
