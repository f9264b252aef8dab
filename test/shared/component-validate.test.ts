// Core-level validation against docs/abi.md: names and signatures of the main
// module's imports and exports. The summaries are written by hand from the doc's
// tables, so a drift between the doc and src/component/abi.ts shows up here.
import { describe, expect, it } from "#test";
import type { CoreExport, CoreImport, CoreModuleSummary } from "../../src/component/binary.ts";
import { validateCoreModule } from "../../src/component/validate.ts";
import { ErrorCode, LoadError, type PluginError } from "../../src/errors.ts";

const I = "uni:plugin/index@1.0.0#";
const fn = (name: string, signature: string): CoreExport => ({ name, kind: "func", signature });

/** An index-plugin core module exactly as docs/abi.md lists it. */
function indexModule(): CoreModuleSummary {
  return {
    imports: [
      { module: "uni:plugin/host-log@1.0.0", name: "log", kind: "func", signature: "iii>" },
      { module: "[export]uni:plugin/index@1.0.0", name: "[resource-new]index-handle", kind: "func", signature: "i>i" },
    ],
    exports: [
      { name: "memory", kind: "memory" },
      fn("cabi_realloc", "iiii>i"),
      fn("manifest", ">i"),
      fn("cabi_post_manifest", "i>"),
      fn(`${I}kinds`, ">i"),
      fn(`${I}build`, "iiiiii>i"),
      fn(`${I}open`, "iiii>i"),
      fn(`${I}[method]index-handle.probe`, "iiii>i"),
      fn(`${I}[method]index-handle.supports-filter`, "i>i"),
      fn(`${I}[method]index-handle.probe-filtered`, "iiiiii>i"),
      fn(`${I}[method]index-handle.persist`, "i>i"),
      fn(`${I}[method]index-handle.schema`, "i>i"),
      fn(`${I}[dtor]index-handle`, "i>"),
      fn(`cabi_post_${I}[method]index-handle.probe`, "i>"),
      fn("_initialize", ">"),
      { name: "__heap_base", kind: "global" },
    ],
    memories: [{ min: 1, shared: false, memory64: false }],
  };
}

function refusal(summary: CoreModuleSummary): PluginError {
  try {
    validateCoreModule(summary, new Set(["index"]));
  } catch (err) {
    expect(err).to.be.instanceOf(LoadError);
    return err as PluginError;
  }
  throw new Error("expected validation to fail");
}

describe("core module validation (docs/abi.md)", () => {
  it("accepts the documented index module and reports host-log as required", () => {
    expect([...validateCoreModule(indexModule(), new Set(["index"]))]).to.deep.equal(["host-log"]);
  });

  it("refuses a missing surface function, naming it", () => {
    const m = indexModule();
    m.exports = m.exports.filter((e) => !e.name.endsWith("probe-filtered"));
    const err = refusal(m);
    expect(err.code).to.equal(ErrorCode.WrongWorld);
    expect(err.message).to.contain("[method]index-handle.probe-filtered");
  });

  it("refuses a wrong export signature, saying what the doc expects", () => {
    const m = indexModule();
    m.exports = m.exports.map((e) => (e.name === `${I}build` ? fn(e.name, "iiii>i") : e));
    const err = refusal(m);
    expect(err.code).to.equal(ErrorCode.WrongWorld);
    expect(err.message).to.contain("iiii>i");
    expect(err.message).to.contain("iiiiii>i");
  });

  it("refuses a wrong cabi_realloc or post-return signature", () => {
    const a = indexModule();
    a.exports = a.exports.map((e) => (e.name === "cabi_realloc" ? fn(e.name, "ii>i") : e));
    expect(refusal(a).message).to.contain("cabi_realloc");
    const b = indexModule();
    b.exports = b.exports.map((e) => (e.name === "cabi_post_manifest" ? fn(e.name, "i>i") : e));
    expect(refusal(b).message).to.contain("cabi_post_manifest");
  });

  it("refuses imports the host does not link: WASI, or another surface's intrinsics", () => {
    const wasi: CoreImport = { module: "wasi_snapshot_preview1", name: "fd_write", kind: "func", signature: "iiii>i" };
    const a = indexModule();
    a.imports.push(wasi);
    const err = refusal(a);
    expect(err.code).to.equal(ErrorCode.WrongWorld);
    expect(err.message).to.contain("wasi_snapshot_preview1");
    expect(err.message).to.contain("must be pure");

    const b = indexModule();
    b.imports.push({
      module: "[export]uni:plugin/crdt@1.0.0",
      name: "[resource-new]crdt-state",
      kind: "func",
      signature: "i>i",
    });
    expect(refusal(b).message).to.contain("[resource-new]crdt-state");
  });

  it("refuses a wrong import signature", () => {
    const m = indexModule();
    m.imports[0] = { module: "uni:plugin/host-log@1.0.0", name: "log", kind: "func", signature: "ii>" };
    expect(refusal(m).message).to.contain("iii>");
  });

  it("ignores core exports the component does not lift (componentize-js's wasi:cli/run), checks the world's own", () => {
    const m = indexModule();
    m.exports.push(
      fn("wasi:cli/run@0.2.10#run", ">i"),
      fn("cabi_post_wasi:cli/run@0.2.10#run", "i>"),
      fn("uni:plugin/crdt@1.0.0#kinds", ">i"),
    );
    expect([...validateCoreModule(m, new Set(["index"]))]).to.deep.equal(["host-log"]);
    // The exported surfaces are still checked in full: a missing or mistyped function is refused.
    m.exports = m.exports.filter((e) => e.name !== `${I}open`);
    expect(refusal(m).message).to.contain(`${I}open`);
  });

  it("knows cdc-sink is required when emit is imported", () => {
    const required = validateCoreModule(
      {
        imports: [{ module: "uni:plugin/cdc-sink@1.0.0", name: "emit", kind: "func", signature: "iiIIiii>" }],
        exports: [
          { name: "memory", kind: "memory" },
          fn("cabi_realloc", "iiii>i"),
          fn("manifest", ">i"),
          fn("uni:plugin/cdc@1.0.0#outputs", ">i"),
          fn("uni:plugin/cdc@1.0.0#start", "iiiI>i"),
          fn("uni:plugin/cdc@1.0.0#[method]cdc-stream.deliver", "iIIiiI>i"),
          fn("uni:plugin/cdc@1.0.0#[method]cdc-stream.checkpoint", "i>i"),
          fn("uni:plugin/cdc@1.0.0#[method]cdc-stream.shutdown", "i>i"),
          fn("uni:plugin/cdc@1.0.0#[dtor]cdc-stream", "i>"),
        ],
        memories: [{ min: 1, shared: false, memory64: false }],
      },
      new Set(["cdc"]),
    );
    expect([...required]).to.deep.equal(["cdc-sink"]);
  });
});
