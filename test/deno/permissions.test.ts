// Deno-only: `deno task test` grants read access to the repository and nothing else that matters
// (no write, no network, no subprocesses). This pins that: a shared case that starts needing more
// fails here first, and the grant has to be widened on purpose in deno.json.
import { describe, expect, it } from "#test";
import { loadPlugin } from "../support/fixtures.ts";

declare const Deno: {
  permissions: { query(desc: { name: string }): Promise<{ state: string }> };
  readDir(path: URL): AsyncIterable<{ name: string; isFile: boolean }>;
};

describe("deno permissions", () => {
  for (const name of ["write", "net", "run", "ffi", "sys"]) {
    it(`does not grant ${name}`, async () => {
      const status = await Deno.permissions.query({ name });
      expect(status.state).not.to.equal("granted");
    });
  }

  it("grants read access to the committed components", async () => {
    const dist = new URL("../../plugins-wasm/dist/", import.meta.url);
    const stems: string[] = [];
    for await (const entry of Deno.readDir(dist)) {
      if (entry.isFile && entry.name.endsWith(".wasm")) stems.push(entry.name.slice(0, -5));
    }
    expect(stems.length, "plugins-wasm/dist has no .wasm: run npm run build:plugins").to.be.greaterThan(0);
    for (const stem of stems) {
      const bytes = await loadPlugin(stem);
      expect([...bytes.subarray(0, 4)], stem).to.deep.equal([0x00, 0x61, 0x73, 0x6d]);
    }
  });
});
