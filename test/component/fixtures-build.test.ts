// Node-only (uses jco): the committed fixtures are exactly what test/fixtures/build.mjs
// makes, and the host's own binary reader agrees with jco about every component.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readComponent, readCoreModule, withMemoryCeiling } from "../../src/component/binary.ts";
// @ts-expect-error: plain ESM build script without type declarations
import { buildFixtures } from "../fixtures/build.mjs";

const fixturesDir = new URL("../fixtures/wasm/", import.meta.url);
const distDir = new URL("../../plugins-wasm/dist/", import.meta.url);

describe("test fixtures", () => {
  it("rebuild byte for byte from their WAT sources", async () => {
    const scratch = await mkdtemp(join(tmpdir(), "uni-fixtures-"));
    try {
      const built: string[] = await buildFixtures(pathToFileURL(`${scratch}/`));
      const committed = (await readdir(fixturesDir)).filter((f) => f.endsWith(".wasm")).sort();
      expect([...built].sort()).to.deep.equal(committed);
      for (const file of built) {
        const fresh = await readFile(join(scratch, file));
        const old = await readFile(new URL(file, fixturesDir));
        expect(Buffer.compare(fresh, old), `${file} differs: run node test/fixtures/build.mjs`).to.equal(0);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("binary reader vs jco", async () => {
  const { componentWit } = await import("@bytecodealliance/jco");
  const components = [
    ...["index-echo", "cdc-emit", "wasi-command", "wasi-run-only"].map((n) => new URL(`${n}.wasm`, fixturesDir)),
    ...(await readdir(distDir).catch(() => [] as string[]))
      .filter((f) => f.endsWith(".wasm"))
      .map((f) => new URL(f, distDir)),
  ];

  for (const url of components) {
    it(`reads the same imports and exports as jco: ${url.pathname.split("/").pop()}`, async () => {
      const bytes = new Uint8Array(await readFile(url));
      const summary = readComponent(bytes);
      const wit: string = await componentWit(bytes);
      // jco prints the component's world: `import a:b/c@v;` / `export a:b/c@v;` / `export manifest: func…`.
      const witExports = [...wit.matchAll(/^\s*export ([\w:/.@-]+)[;:]/gm)].map((m) => m[1]);
      const witImports = [...wit.matchAll(/^\s*import ([\w:/.@-]+)[;:]/gm)].map((m) => m[1]);
      expect([...summary.exports].sort()).to.deep.equal(witExports.sort());
      expect([...summary.imports].sort()).to.deep.equal(witImports.sort());
    });

    it(`caps memory into a module the engine still validates: ${url.pathname.split("/").pop()}`, async () => {
      const bytes = new Uint8Array(await readFile(url));
      for (const core of readComponent(bytes).coreModules) {
        const summary = readCoreModule(core);
        if (summary.memories.length !== 1) continue;
        const declared = summary.memories[0] as { min: number; max?: number };
        const ceiling = declared.min + 1;
        const capped = withMemoryCeiling(core, summary, ceiling);
        expect(WebAssembly.validate(capped as Uint8Array<ArrayBuffer>)).to.equal(true);
        const re = readCoreModule(capped);
        expect(re.memories[0]?.min).to.equal(declared.min);
        expect(re.memories[0]?.max).to.equal(Math.min(declared.max ?? ceiling, ceiling));
        expect(re.exports).to.deep.equal(summary.exports);
        expect(re.imports).to.deep.equal(summary.imports);
        expect(
          WebAssembly.Module.exports(new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>)).map((e) => e.name),
        ).to.deep.equal(summary.exports.map((e) => e.name));
      }
    });
  }
});
