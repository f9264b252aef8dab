// Loading: the binary reader, world validation, the memory ceiling and the compile cache.
import fc from "fast-check";
import { describe, expect, it } from "#test";
import { ComponentModule } from "../../src/component/mod.ts";
import { ErrorCode, LoadError, PluginError } from "../../src/errors.ts";
import { loadFixture } from "../support/fixtures.ts";

async function compileError(bytes: Uint8Array, ceiling?: number): Promise<PluginError> {
  try {
    await ComponentModule.compile(bytes, ceiling === undefined ? {} : { memoryPagesCeiling: ceiling });
  } catch (err) {
    expect(err).to.be.instanceOf(LoadError);
    return err as PluginError;
  }
  throw new Error("expected the compile to fail");
}

describe("ComponentModule.compile", () => {
  it("reads surfaces, imports and component names of a valid component", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"));
    expect([...module.surfaces]).to.deep.equal(["index"]);
    expect([...module.requiredImports]).to.deep.equal(["host-log"]);
    expect(module.componentExports).to.deep.equal(["manifest", "uni:plugin/index@1.0.0"]);
    expect(module.componentImports).to.include("uni:plugin/host-log@1.0.0");
    expect(module.hash).to.match(/^[0-9a-f]{64}$/);
  });

  it("knows a cdc component needs cdc-sink", async () => {
    const module = await ComponentModule.compile(await loadFixture("cdc-emit"));
    expect([...module.surfaces]).to.deep.equal(["cdc"]);
    expect(module.requiredImports.has("cdc-sink")).to.equal(true);
  });

  it("accepts component bytes in a SharedArrayBuffer (where one can exist)", async () => {
    // A page that is not cross-origin isolated has no SharedArrayBuffer, so no such input either.
    const Shared = (globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer }).SharedArrayBuffer;
    if (Shared === undefined) return;
    const bytes = await loadFixture("index-echo");
    const shared = new Uint8Array(new Shared(bytes.length));
    shared.set(bytes);
    expect([...(await ComponentModule.compile(shared)).surfaces]).to.deep.equal(["index"]);
  });

  it("refuses garbage as InvalidComponent", async () => {
    const err = await compileError(await loadFixture("garbage"));
    expect(err.code).to.equal(ErrorCode.InvalidComponent);
    expect(err.message).to.contain("not a WebAssembly binary");
  });

  it("refuses empty and non-Uint8Array input as InvalidComponent", async () => {
    expect((await compileError(new Uint8Array())).code).to.equal(ErrorCode.InvalidComponent);
    expect((await compileError("hello" as unknown as Uint8Array)).code).to.equal(ErrorCode.InvalidComponent);
  });

  it("refuses every truncation of a valid component as InvalidComponent, never a RangeError", async () => {
    const bytes = await loadFixture("index-echo");
    const cuts = [9, 12, 40, 200, Math.floor(bytes.length / 2), bytes.length - 1];
    for (const cut of cuts) {
      const err = await compileError(bytes.slice(0, cut));
      expect(err.code, `cut at ${cut}`).to.equal(ErrorCode.InvalidComponent);
      expect(err.message).not.to.contain("[object Object]");
    }
  });

  it("says so when given a core module instead of a component", async () => {
    const err = await compileError(await loadFixture("core-module"));
    expect(err.code).to.equal(ErrorCode.InvalidComponent);
    expect(err.message).to.contain("core WebAssembly module, not a component");
  });

  it("refuses a component of another world, naming what is unexpected and missing", async () => {
    const err = await compileError(await loadFixture("wasi-run-only"));
    expect(err.code).to.equal(ErrorCode.WrongWorld);
    expect(err.message).to.contain('"wasi:cli/run@0.2.0"');
    expect(err.message).to.contain('does not export "manifest"');
  });

  it("refuses WASI imports: uni:plugin components must be pure", async () => {
    const err = await compileError(await loadFixture("wasi-command"));
    expect(err.code).to.equal(ErrorCode.WrongWorld);
    expect(err.message).to.contain("wasi:cli/environment@0.2.0");
    expect(err.message).to.contain("must be pure");
  });

  it("caps the memory maximum at the host ceiling", async () => {
    const module = await ComponentModule.compile(await loadFixture("index-echo"), { memoryPagesCeiling: 5 });
    // index-echo declares 1 initial page and no maximum.
    expect(module.memoryPages).to.deep.equal({ initial: 1, maximum: 5 });
    expect(module.memoryPagesCeiling).to.equal(5);
  });

  it("refuses a module whose initial memory exceeds the ceiling with ResourceLimit", async () => {
    const err = await compileError(await loadFixture("index-echo-3-pages"), 2);
    expect(err.code).to.equal(ErrorCode.ResourceLimit);
    expect(err.message).to.contain("3 pages");
    expect(err.message).to.contain("ceiling of 2 pages");
  });

  it("refuses a nonsensical ceiling", async () => {
    const err = await compileError(await loadFixture("index-echo"), 0);
    expect(err.code).to.equal(ErrorCode.ResourceLimit);
  });

  it("compiles the same bytes once per ceiling (cache keyed by SHA-256)", async () => {
    const bytes = await loadFixture("index-echo");
    const first = await ComponentModule.compile(bytes, { memoryPagesCeiling: 77 });
    const before = ComponentModule.compileCount;
    const again = await ComponentModule.compile(bytes.slice(), { memoryPagesCeiling: 77 });
    expect(again).to.equal(first);
    expect(ComponentModule.compileCount).to.equal(before);
    const other = await ComponentModule.compile(bytes, { memoryPagesCeiling: 78 });
    expect(other).not.to.equal(first);
    expect(other.hash).to.equal(first.hash);
    expect(ComponentModule.compileCount).to.equal(before + 1);
  });

  it("answers corrupted bytes with a module or a LoadError, never anything else", async () => {
    const bytes = await loadFixture("index-echo");
    const corruption = fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });
    await fc.assert(
      fc.asyncProperty(corruption, fc.nat({ max: bytes.length }), async (writes, cut) => {
        const mutated = bytes.slice(0, Math.max(cut, 8));
        for (const [at, value] of writes) if (at < mutated.length) mutated[at] = value;
        try {
          await ComponentModule.compile(mutated);
        } catch (err) {
          expect(err).to.be.instanceOf(PluginError);
          expect([ErrorCode.InvalidComponent, ErrorCode.WrongWorld, ErrorCode.ResourceLimit]).to.include(
            (err as PluginError).code,
          );
          expect((err as PluginError).message).not.to.contain("[object Object]");
        }
      }),
      { numRuns: 150 },
    );
  });
});
