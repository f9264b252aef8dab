/**
 * Loads committed sample components (plugins-wasm/dist) and test fixtures
 * (test/fixtures/wasm) the same way in Node, Deno and Chromium.
 */
// Not `new URL("literal", import.meta.url)`: vite rewrites that pattern at transform time and drops a directory's
// trailing slash, so in Chromium "x.wasm" resolved against ".../plugins-wasm/dist" lost its `dist/` (404).
const here = import.meta.url;
const distUrl = new URL("../../plugins-wasm/dist/", here);
const fixturesUrl = new URL("../fixtures/wasm/", here);
const rustFixturesUrl = new URL("../../plugins-wasm/rust/fixtures/", here);

declare const Deno: { readFile(path: URL): Promise<Uint8Array> } | undefined;

async function readUrl(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    if (typeof Deno !== "undefined") return await Deno.readFile(url);
    // Node: no static node: import, so the browser bundle never sees one.
    const fs = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.(
      "node:fs/promises",
    ) as { readFile(u: URL): Promise<Uint8Array> } | undefined;
    if (!fs) throw new Error(`cannot read ${url.href}: no file system in this runtime`);
    return new Uint8Array(await fs.readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url.href}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A sample plugin by file stem, e.g. `loadPlugin("vector-flat-v1")`. */
export function loadPlugin(name: string): Promise<Uint8Array> {
  return readUrl(new URL(`${name}.wasm`, distUrl));
}

/** A test-only component from test/fixtures/wasm, e.g. `loadFixture("trap-mid-call")`. */
export function loadFixture(name: string): Promise<Uint8Array> {
  return readUrl(new URL(`${name}.wasm`, fixturesUrl));
}

/** A fixture component built from plugins-wasm/rust (e.g. `loadRustFixture("arrow-echo")`: index kind `arrow.echo`). */
export function loadRustFixture(name: string): Promise<Uint8Array> {
  return readUrl(new URL(`${name}.wasm`, rustFixturesUrl));
}

/** The URL of a sample plugin, for tests of loading from a URL. */
export function pluginUrl(name: string): URL {
  return new URL(`${name}.wasm`, distUrl);
}
