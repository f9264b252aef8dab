// A component written in plain JavaScript with componentize-js (npm, offline, every WASI feature disabled): it
// imports only uni:plugin interfaces, but its core module also exports `wasi:cli/run@0.2.10#run`, which the
// component does not. The host must load it, serve it and hot-reload it with its state, and `uni-plugin check`
// must pass it. The components are built here, never committed (they embed StarlingMonkey).
// Node only: componentize-js needs Node APIs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { component, PluginCallError, PluginHost } from "../../src/mod.ts";

const witPath = fileURLToPath(new URL("../../wit", import.meta.url));

/** A max register over MessagePack uints; `format` is what persist writes, every format up to it is read. */
function guestSource(version: string, format: number): string {
  return `
const VERSION = ${JSON.stringify(version)};
const FORMAT = ${format};
const fail = (code, message) => { throw { code, message, retryable: false }; };
function readUint(b) {
  if (b.length === 1 && b[0] < 0x80) return b[0];
  if (b[0] === 0xcc && b.length === 2) return b[1];
  if (b[0] === 0xcd && b.length === 3) return (b[1] << 8) | b[2];
  if (b[0] === 0xce && b.length === 5) return ((b[1] << 24) >>> 0) + ((b[2] << 16) | (b[3] << 8) | b[4]);
  return fail(0x101, "op must be a MessagePack uint below 2^32");
}
function writeUint(n) {
  if (n < 0x80) return new Uint8Array([n]);
  if (n < 0x100) return new Uint8Array([0xcc, n]);
  if (n < 0x10000) return new Uint8Array([0xcd, n >> 8, n & 0xff]);
  return new Uint8Array([0xce, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
function readState(b) {
  if (b.length !== 7 || b[0] !== 0xc1 || b[1] < 1 || b[1] > FORMAT) fail(2, "not a persisted max register this version reads");
  return b[2] ? (b[3] | (b[4] << 8) | (b[5] << 16) | (b[6] << 24)) >>> 0 : null;
}
class CrdtState {
  constructor(max) { this.max = max; }
  raise(n) { if (n !== null && (this.max === null || n > this.max)) this.max = n; }
  apply(op) { this.raise(readUint(op)); }
  merge(other) { this.raise(readState(other)); }
  value() { return this.max === null ? new Uint8Array([0xc0]) : writeUint(this.max); }
  persist() {
    const m = this.max ?? 0;
    return new Uint8Array([0xc1, FORMAT, this.max === null ? 0 : 1, m & 0xff, (m >>> 8) & 0xff, (m >>> 16) & 0xff, m >>> 24]);
  }
}
export const crdt = {
  CrdtState,
  kinds() { return ["max-register"]; },
  empty(kind) { return new CrdtState(null); },
  fromPersisted(kind, bytes) { return new CrdtState(readState(bytes)); },
};
export function manifest() {
  return JSON.stringify({ id: "dev.test.js-max", version: VERSION, abi: "^1.0", capabilities: ["crdt"], provides: { crdt_kinds: ["max-register"] } });
}
`;
}

let dir: string;
let v1: Uint8Array;
let v2: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "uni-componentize-js-"));
  // preview2-shim >= 0.25 starts with no preopened directories: open the file system for the splicer.
  const { _setPreopens } = (await import("@bytecodealliance/preview2-shim/filesystem")) as unknown as {
    _setPreopens(preopens: Record<string, string>): void;
  };
  _setPreopens({ "/": "/" });
  const { componentize } = await import("@bytecodealliance/componentize-js");
  const build = async (version: string, format: number) => {
    const sourcePath = join(dir, `guest-${version}.js`);
    await writeFile(sourcePath, guestSource(version, format));
    const { component: bytes } = await componentize({
      sourcePath,
      witPath,
      worldName: "uni:plugin/crdt-plugin@1.0.0",
      disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
    });
    return bytes;
  };
  [v1, v2] = await Promise.all([build("1.0.0", 1), build("2.0.0", 2)]);
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a componentize-js component", () => {
  it("imports only uni:plugin interfaces, while its core module exports wasi:cli/run it does not lift", async () => {
    const module = await component.ComponentModule.compile(v1);
    expect(module.componentImports.every((name) => name.startsWith("uni:plugin/"))).toBe(true);
    expect(module.componentExports).toEqual(expect.arrayContaining(["manifest", "uni:plugin/crdt@1.0.0"]));
    expect(module.componentExports.some((name) => name.startsWith("wasi:"))).toBe(false);
    expect([...module.coreExports].some((name) => name.startsWith("wasi:cli/run@"))).toBe(true);
  });

  it("loads and serves: ops, merges, values, its own typed errors", async () => {
    const host = new PluginHost();
    await host.load(v1);
    const [a, b] = [await host.createCrdt("a", "max-register"), await host.createCrdt("b", "max-register")];
    expect(await a.value()).toBe(null);
    await a.apply(7);
    await a.apply(300);
    await b.apply(70000);
    await a.merge(b);
    expect(await a.value()).toBe(70000);
    const err = await a.apply("seven").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginCallError);
    expect((err as PluginCallError).code).toBe(0x101);
    expect(await a.value()).toBe(70000);
    host.dispose();
  });

  it("hot-reloads v1 → v2 with its state, then serves on v2", async () => {
    const host = new PluginHost();
    const handle = await host.load(v1);
    const a = await host.createCrdt("a", "max-register");
    const b = await host.createCrdt("b", "max-register");
    await a.apply(41);
    await b.apply(5);
    const report = await host.reload(handle, v2);
    expect(report.ok).toBe(true);
    expect(report.to?.version).toBe("2.0.0");
    expect(report.moved.crdtStates).toBe(2);
    expect(a.servedBy.version).toBe("2.0.0");
    expect([await a.value(), await b.value()]).toEqual([41, 5]);
    await b.apply(99);
    await a.merge(b);
    expect(await a.value()).toBe(99);
    expect((await a.persist())[1]).toBe(2); // written by v2, in its format
    host.dispose();
  });

  it("passes uni-plugin check", async () => {
    // @ts-expect-error: the CLI is plain ESM without type declarations
    const { runCheck } = await import("../../cli/lib/check/run.mjs");
    const report = await runCheck(v1, { seed: 3, runs: 20 });
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual([
      "world",
      "manifest",
      "crdt max-register",
      "time budget",
    ]);
  }, 120_000);
});
