// PluginHost.load from every source kind, and the typed errors for sources it cannot read.
// File paths and file: URLs need the runtime adapter (Node: src/adapters/node.ts, Deno: src/adapters/deno.ts);
// the browser has neither, so those cases check the runtime and return early there.
import { describe, expect, it } from "#test";
import { ErrorCode, LoadError, type PluginHandle, PluginHost } from "../../src/mod.ts";
import { loadPlugin, pluginUrl } from "../support/fixtures.ts";
import { expectNothingRegistered, expectRejects, runtime } from "./host-util.ts";

const CRDT_KINDS = ["g-counter", "pn-counter", "lww-register", "or-set"];

/** A host of this runtime that can read file paths (Node and Deno only). */
async function adapterHost(): Promise<PluginHost> {
  // Not a static import: the browser bundle must never see node:fs; a computed specifier keeps vite from following it.
  const adapter = runtime() === "deno" ? "deno.ts" : "node.ts";
  const mod = await import(/* @vite-ignore */ `../../src/adapters/${adapter}`);
  return runtime() === "deno" ? mod.createDenoHost() : mod.createNodeHost();
}

/** The crdt-v1 sample is installed once, as generation 1, with all four kinds registered. */
function expectCrdtV1Installed(host: PluginHost, handle: PluginHandle): void {
  expect({ ...handle }).to.deep.equal({ id: "dev.uni.crdt", version: "1.0.0", generation: 1 });
  const [info, ...rest] = host.plugins();
  expect(rest).to.have.length(0);
  expect(info?.id).to.equal("dev.uni.crdt");
  expect(info?.registered.crdt).to.have.members(CRDT_KINDS);
  expect(info?.hash).to.match(/^[0-9a-f]{64}$/);
  for (const kind of CRDT_KINDS) expect(host.provider("crdt", kind)).to.deep.equal(handle);
}

describe("PluginHost.load sources", () => {
  it("loads from a Uint8Array", async () => {
    const host = new PluginHost();
    expectCrdtV1Installed(host, await host.load(await loadPlugin("crdt-v1")));
  });

  it("loads from an ArrayBuffer", async () => {
    const host = new PluginHost();
    const bytes = await loadPlugin("crdt-v1");
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    expectCrdtV1Installed(host, await host.load(buffer));
  });

  it("loads from a Response", async () => {
    const host = new PluginHost();
    const bytes = (await loadPlugin("crdt-v1")) as Uint8Array<ArrayBuffer>; // a fresh copy: its buffer is an ArrayBuffer
    const response = new Response(bytes, { headers: { "content-type": "application/wasm" } });
    expectCrdtV1Installed(host, await host.load(response));
  });

  it("loads from a URL (http in the browser, file: through the adapter in Node and Deno)", async () => {
    const url = pluginUrl("crdt-v1");
    if (runtime() === "browser") {
      expect(url.protocol).to.match(/^https?:$/);
      const host = new PluginHost();
      expectCrdtV1Installed(host, await host.load(url));
      return;
    }
    expect(url.protocol).to.equal("file:");
    const host = await adapterHost();
    expectCrdtV1Installed(host, await host.load(url));
  });

  it("loads from a file path through the runtime adapter", async () => {
    if (runtime() === "browser") return; // no file system in the page: covered by the no-adapter case below
    const host = await adapterHost();
    expectCrdtV1Installed(host, await host.load(decodeURIComponent(pluginUrl("crdt-v1").pathname)));
  });

  it("reports a missing file through the adapter as a LoadError naming the path", async () => {
    if (runtime() === "browser") return; // no file system in the page
    const host = await adapterHost();
    const path = decodeURIComponent(pluginUrl("no-such-plugin").pathname);
    const err = await expectRejects(host.load(path), { code: ErrorCode.Io, message: path });
    expect(err).to.be.instanceOf(LoadError);
    expectNothingRegistered(host, []);
  });

  it("refuses a file path without an adapter, saying which adapter to use", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load("plugins-wasm/dist/crdt-v1.wasm"), {
      code: ErrorCode.Io,
      message: [
        "plugins-wasm/dist/crdt-v1.wasm",
        "file paths need a runtime adapter",
        "createNodeHost",
        "createDenoHost",
      ],
      retryable: false,
    });
    expect(err).to.be.instanceOf(LoadError);
    expectNothingRegistered(host, [["crdt", "g-counter"]]);
  });

  it("refuses a failed HTTP response with its status; 5xx is retryable, 4xx is not", async () => {
    const host = new PluginHost();
    await expectRejects(host.load(new Response("missing", { status: 404, statusText: "Not Found" })), {
      code: ErrorCode.Io,
      message: "HTTP 404",
      retryable: false,
    });
    await expectRejects(host.load(new Response("busy", { status: 503, statusText: "Service Unavailable" })), {
      code: ErrorCode.Io,
      message: "HTTP 503",
      retryable: true,
    });
    expectNothingRegistered(host, []);
  });

  it("refuses a source of the wrong type with a typed error, never [object Object]", async () => {
    const host = new PluginHost();
    for (const bad of [42, {}, null, [1, 2, 3]]) {
      const err = await expectRejects(host.load(bad as unknown as Uint8Array), { code: ErrorCode.InvalidComponent });
      expect(err).to.be.instanceOf(LoadError);
    }
    expectNothingRegistered(host, []);
  });
});
