// `jco wit` on every committed component prints the world it was built for: the manifest export, its
// surface interface(s), and no import beyond host-log and cdc-sink. Node only: jco runs only in Node.
import { readdir, readFile } from "node:fs/promises";
import { componentWit } from "@bytecodealliance/jco";
import { describe, expect, it } from "vitest";

const dist = new URL("../../plugins-wasm/dist/", import.meta.url);

/** What each sample's file-name prefix must export and may import. */
const EXPECTED: Record<string, { exports: string[]; imports: string[] }> = {
  "vector-flat": { exports: ["uni:plugin/index@1.0.0"], imports: [] },
  changelog: { exports: ["uni:plugin/cdc@1.0.0"], imports: ["uni:plugin/cdc-sink@1.0.0"] },
  crdt: { exports: ["uni:plugin/crdt@1.0.0"], imports: [] },
  types: { exports: ["uni:plugin/logical-type@1.0.0"], imports: [] },
  // world analytics-plugin: one component, two surfaces, one manifest
  analytics: { exports: ["uni:plugin/crdt@1.0.0", "uni:plugin/logical-type@1.0.0"], imports: [] },
  "max-register": { exports: ["uni:plugin/crdt@1.0.0"], imports: [] },
};

const files = (await readdir(dist)).filter((f) => f.endsWith(".wasm")).sort();

describe("jco wit of every committed component", () => {
  it("finds all fifteen samples", () => {
    expect(files.length).toBe(15);
  });
  for (const file of files) {
    it(`${file} declares its uni:plugin world`, async () => {
      const wit: string = await componentWit(await readFile(new URL(file, dist)));
      const prefix = Object.keys(EXPECTED).find((p) => file.startsWith(`${p}-`));
      expect(prefix, file).toBeDefined();
      const want = EXPECTED[prefix as string] as { exports: string[]; imports: string[] };
      const exported = [...wit.matchAll(/^\s*export ([^;]+);/gm)].map((m) => (m[1] as string).trim());
      const imported = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => (m[1] as string).trim());
      expect(exported).toContain("manifest: func() -> string");
      for (const iface of want.exports) expect(exported).toContain(iface);
      expect(exported.length).toBe(want.exports.length + 1);
      for (const imp of imported) {
        expect(["uni:plugin/host-log@1.0.0", "uni:plugin/types@1.0.0", ...want.imports]).toContain(imp);
      }
      for (const imp of want.imports) expect(imported).toContain(imp);
    });
  }
});
