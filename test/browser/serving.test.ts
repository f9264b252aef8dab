/// <reference types="vite/client" />
// Chromium-only: checks that the vitest browser server hands the page every committed component, the way
// test/support/fixtures.ts asks for them (fetch of a URL relative to its own module). Node and Deno read
// files directly, so this case has nothing to check there.
import { describe, expect, it } from "#test";
import { loadFixture, loadPlugin, pluginUrl } from "../support/fixtures.ts";

// Resolved by vite at transform time: the committed components, as the test server sees them.
const committed = Object.keys(import.meta.glob("../../plugins-wasm/dist/*.wasm", { query: "?url" }));
const stemOf = (path: string) => path.replace(/^.*\//, "").replace(/\.wasm$/, "");
const stems = committed.map(stemOf);
// Test-only components (some deliberately malformed), with the URL vite itself would hand out for each.
const fixtureUrls = import.meta.glob<string>("../fixtures/wasm/*.wasm", {
  query: "?url",
  import: "default",
  eager: true,
});

// `\0asm`, then a component-model layer (version 0x0d, layer 1) rather than a core module (version 1, layer 0).
const componentPreamble = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

describe("browser serving of committed components", () => {
  it("finds the committed components in plugins-wasm/dist", () => {
    expect(stems.length, "plugins-wasm/dist has no .wasm: run npm run build:plugins").to.be.greaterThan(0);
  });

  it("serves every component over http as application/wasm", async () => {
    for (const stem of stems) {
      const url = pluginUrl(stem);
      expect(url.protocol).to.match(/^https?:$/);
      const res = await fetch(url);
      expect(res.status, url.href).to.equal(200);
      // compileStreaming and friends refuse anything else.
      expect(res.headers.get("content-type"), url.href).to.match(/^application\/wasm/);
    }
  });

  it("loads every component's bytes intact through loadPlugin", async () => {
    for (const stem of stems) {
      const bytes = await loadPlugin(stem);
      expect([...bytes.subarray(0, 8)], stem).to.deep.equal(componentPreamble);
    }
  });

  it("serves every test fixture through loadFixture, byte for byte as vite serves the file", async () => {
    const entries = Object.entries(fixtureUrls);
    expect(entries.length, "test/fixtures/wasm has no .wasm").to.be.greaterThan(0);
    for (const [path, url] of entries) {
      const viaLoader = await loadFixture(stemOf(path));
      const res = await fetch(url);
      expect(res.status, url).to.equal(200);
      const viaVite = new Uint8Array(await res.arrayBuffer());
      expect(viaLoader.length, path).to.equal(viaVite.length);
      expect(
        viaLoader.every((b, i) => b === viaVite[i]),
        path,
      ).to.equal(true);
    }
  });
});
