// The logical-type client against the AssemblyScript sample (plugins-wasm/dist/types-v1):
// geo.point is WKT `POINT(lon lat)` over FixedSizeList[2]<Float64>.
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "#test";
import { toIPC } from "../../src/arrow.ts";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { PluginCallError, type PluginError } from "../../src/errors.ts";
import { loadPlugin } from "../support/fixtures.ts";

async function types() {
  const module = await ComponentModule.compile(await loadPlugin("types-v1"));
  const instance = await ComponentInstance.instantiate(module, { pluginId: "dev.uni.types", grants: new Set() });
  return { instance, lt: instance.logicalType as NonNullable<ComponentInstance["logicalType"]> };
}

const utf8Column = (values: string[]) => new Table({ v: vectorFromArray(values, new Utf8()) });

describe("logical-type surface (types-v1 sample)", () => {
  it("names its types with their storage type and encoding version", async () => {
    const { lt, instance } = await types();
    expect(instance.index).to.equal(undefined);
    expect(lt.names()).to.include("geo.point");
    expect(lt.arrowType("geo.point")).to.equal("FixedSizeList[2]<Float64>");
    expect(lt.encodingVersion("geo.point")).to.equal("1");
  });

  it("parses literals into storage and renders them back", async () => {
    const { lt } = await types();
    const storage = lt.fromLiteralTable("geo.point", utf8Column(["POINT(1 2)", "POINT(-3.5 4)"]));
    const field = storage.schema.fields[0];
    expect(String(field?.type)).to.equal("FixedSizeList[2]<Float64>");
    expect(field?.metadata.get("ARROW:extension:name")).to.equal("geo.point");
    expect(storage.getChild("v")?.get(1)?.toArray()).to.deep.equal(Float64Array.from([-3.5, 4]));
    const display = lt.toDisplayTable("geo.point", storage);
    expect(display.getChild("v")?.toArray()).to.deep.equal(["POINT(1 2)", "POINT(-3.5 4)"]);
    const text = lt.castToTable("geo.point", storage, "Utf8");
    expect(text.getChild("v")?.toArray()).to.deep.equal(["POINT(1 2)", "POINT(-3.5 4)"]);
  });

  it("reports invalid literals and unknown names as fn-errors naming the problem", async () => {
    const { lt, instance } = await types();
    const errors: PluginError[] = [];
    for (const call of [() => lt.fromLiteral("geo.point", toIPC(utf8Column(["1,2"]))), () => lt.arrowType("nope")]) {
      try {
        call();
      } catch (e) {
        errors.push(e as PluginError);
      }
    }
    expect(errors).to.have.length(2);
    for (const err of errors) expect(err).to.be.instanceOf(PluginCallError);
    expect(errors[0]?.message).to.contain('"1,2"');
    expect(errors[1]?.message).to.contain('"nope"');
    expect(instance.poisoned).to.equal(false);
  });
});
