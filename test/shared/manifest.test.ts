// parseManifest (docs/manifest.md): strict parsing, errors name the field at fault.
import { describe, expect, it } from "#test";
import { ErrorCode, ManifestError, parseManifest } from "../../src/mod.ts";
import { expectThrows } from "./host-util.ts";

const minimal = { id: "dev.uni.x", version: "1.0.0", abi: "^1.0", provides: {} };
const json = (overrides: Record<string, unknown> = {}) => JSON.stringify({ ...minimal, ...overrides });

/** Parsing `text` must throw a ManifestError naming `field`, with every `message` part. */
function refused(text: string, field: string, ...message: string[]): void {
  const err = expectThrows(() => parseManifest(text), { code: ErrorCode.InvalidManifest, field, message });
  expect(err).to.be.instanceOf(ManifestError);
  expect(err.retryable).to.equal(false);
}

describe("parseManifest", () => {
  it("fills the documented defaults for a minimal manifest", () => {
    expect(parseManifest(json())).to.deep.equal({
      id: "dev.uni.x",
      version: "1.0.0",
      abi: "^1.0",
      capabilities: [],
      provides: { index_kinds: [], cdc_outputs: [], crdt_kinds: [], logical_types: [] },
      determinism: "pure",
      side_effects: "read-only",
      scope: "instance",
      depends_on: [],
      limits: {},
    });
  });

  it("keeps every documented key of the full example", () => {
    const full = {
      id: "dev.uni.vector-flat",
      version: "1.2.3-beta.1",
      abi: "~1.0",
      description: "Exact k-nearest-neighbour index",
      capabilities: ["index", "cdc-sink", "host-log"],
      provides: {
        index_kinds: ["vector.flat"],
        cdc_outputs: [],
        crdt_kinds: ["g-counter"],
        logical_types: ["geo.point"],
      },
      determinism: "session-scoped",
      side_effects: "external-io",
      scope: "session",
      depends_on: [{ id: "dev.uni.crdt", version_req: "^1", optional: true }],
      limits: { memory_pages: 1024 },
      hash: "sha256:abc",
      signature: "sig",
    };
    expect(parseManifest(JSON.stringify(full))).to.deep.equal(full);
  });

  it("defaults depends_on[].optional to false", () => {
    const m = parseManifest(json({ depends_on: [{ id: "dev.uni.crdt", version_req: "1.x" }] }));
    expect(m.depends_on).to.deep.equal([{ id: "dev.uni.crdt", version_req: "1.x", optional: false }]);
  });

  it("refuses text that is not a JSON object", () => {
    refused("{not json", "(json)", "JSON");
    refused("[]", "(json)", "object");
    refused('"dev.uni.x"', "(json)");
    refused("null", "(json)");
  });

  it("refuses unknown keys at every level, naming the path", () => {
    refused(json({ colour: "blue" }), "colour", "unknown key");
    refused(json({ provides: { index_kind: ["x"] } }), "provides.index_kind", "unknown key");
    refused(json({ limits: { memory: 4 } }), "limits.memory", "unknown key");
    refused(
      json({ depends_on: [{ id: "dev.uni.y", version_req: "^1", why: "?" }] }),
      "depends_on[0].why",
      "unknown key",
    );
  });

  it("requires id, version, abi and provides", () => {
    for (const key of ["id", "version", "abi", "provides"]) {
      const m: Record<string, unknown> = { ...minimal };
      delete m[key];
      refused(JSON.stringify(m), key, "required");
    }
  });

  it("refuses ids that are not reverse-DNS", () => {
    for (const id of ["x", "Dev.uni.x", "dev..x", "dev.uni.", ".dev.uni", "dev.uni_x", "dev.-uni", "dev.uni x"]) {
      refused(json({ id }), "id", JSON.stringify(id));
    }
    refused(json({ id: 42 }), "id", "string");
    for (const id of ["dev.uni", "dev.uni.vector-flat", "a1.b2.c3"])
      expect(parseManifest(json({ id })).id).to.equal(id);
  });

  it("refuses a version that is not semver and an abi that is not a range", () => {
    for (const version of ["1.0", "v1", "1.0.0.0", "latest", ""]) refused(json({ version }), "version", "semver");
    for (const abi of ["one", ">>1"]) refused(json({ abi }), "abi", "range");
    for (const abi of ["^1.0", "~1.0", "1.x", ">=1.0.0 <2.0.0"]) expect(parseManifest(json({ abi })).abi).to.equal(abi);
  });

  it("refuses an empty abi: semver reads it as '*', which would run the plugin on every future ABI", () => {
    refused(json({ abi: "" }), "abi");
    refused(json({ abi: "  " }), "abi");
  });

  it("accepts an abi range the host does not implement: that is checkAbi's refusal, with its own code", () => {
    expect(parseManifest(json({ abi: "^2.0" })).abi).to.equal("^2.0");
  });

  it("refuses unknown capabilities and a capabilities value that is not a list", () => {
    refused(json({ capabilities: ["index", "network"] }), "capabilities", '"network"');
    refused(json({ capabilities: "index" }), "capabilities", "list");
  });

  it("refuses provides lists that are not lists of distinct valid keys", () => {
    refused(json({ provides: { index_kinds: "vector.flat" } }), "provides.index_kinds", "list");
    refused(json({ provides: { crdt_kinds: ["g-counter", "g-counter"] } }), "provides.crdt_kinds", "twice");
    refused(json({ provides: { cdc_outputs: [""] } }), "provides.cdc_outputs", "not a valid key");
    refused(json({ provides: { logical_types: [7] } }), "provides.logical_types", "7");
    refused(json({ provides: [] }), "provides", "object");
  });

  it("refuses enum values outside the documented ones", () => {
    refused(json({ determinism: "random" }), "determinism", '"random"');
    refused(json({ side_effects: "none" }), "side_effects", '"none"');
    refused(json({ scope: "global" }), "scope", '"global"');
  });

  it("refuses malformed depends_on entries", () => {
    refused(json({ depends_on: {} }), "depends_on", "list");
    refused(json({ depends_on: ["dev.uni.y"] }), "depends_on[0]", "object");
    refused(json({ depends_on: [{ id: "Y", version_req: "^1" }] }), "depends_on[0].id", "reverse-DNS");
    refused(json({ depends_on: [{ id: "dev.uni.y", version_req: "soon" }] }), "depends_on[0].version_req", "range");
    refused(
      json({ depends_on: [{ id: "dev.uni.y", version_req: "^1", optional: "no" }] }),
      "depends_on[0].optional",
      "boolean",
    );
  });

  it("refuses memory_pages outside 1..65536", () => {
    for (const pages of [0, -1, 1.5, 65537, "4"])
      refused(json({ limits: { memory_pages: pages } }), "limits.memory_pages");
    expect(parseManifest(json({ limits: { memory_pages: 65536 } })).limits).to.deep.equal({ memory_pages: 65536 });
    refused(json({ limits: [] }), "limits", "object");
  });

  it("refuses non-string description, hash and signature", () => {
    for (const key of ["description", "hash", "signature"]) refused(json({ [key]: 1 }), key, "string");
  });

  it("never says [object Object]", () => {
    for (const bad of [json({ id: {} }), json({ determinism: { a: 1 } }), json({ provides: { index_kinds: [{}] } })]) {
      const err = expectThrows(() => parseManifest(bad), { code: ErrorCode.InvalidManifest });
      expect(err.message).not.to.contain("[object Object]");
    }
  });
});
