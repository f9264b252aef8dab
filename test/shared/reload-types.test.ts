// Reload of logical types: v1 → v2 keeps storage type and encoding version and round-trips the
// literals seen in traffic; v2-incompatible changes geo.point's encoding and is refused naming it.
import { describe, expect, it } from "#test";
import { hostWith, plugin, refused } from "./reload-util.ts";

const POINTS = ["POINT(13.4 52.52)", "POINT(-73.99 40.73)", "POINT(0 0)", null];
const UUIDS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"];

describe("reload: logical types", () => {
  it("v1 → v2 keeps every type's storage and displays stored values identically", async () => {
    const { host, handle } = await hostWith("types-v1");
    const geo = host.logicalType("geo.point");
    const uuid = host.logicalType("uuid");
    const points = await geo.fromLiteral(POINTS);
    const ids = await uuid.fromLiteral(UUIDS);
    const before = [await geo.toDisplay(points), await uuid.toDisplay(ids)];

    const report = await host.reload(handle, await plugin("types-v2"));

    expect(report.to?.version).to.equal("2.0.0");
    expect(await geo.arrowType()).to.equal("FixedSizeList[2]<Float64>");
    expect([await geo.toDisplay(points), await uuid.toDisplay(ids)]).to.deep.equal(before);
    host.dispose();
  });

  it("v1 → v2-incompatible is refused at check-compat naming geo.point and its encoding version", async () => {
    const { host, handle } = await hostWith("types-v1");
    const geo = host.logicalType("geo.point");
    const points = await geo.fromLiteral(POINTS);
    const before = await geo.toDisplay(points);

    const err = await refused(host.reload(handle, await plugin("types-v2-incompatible")), "check-compat");

    expect(err.message).to.contain('logical type "geo.point" is incompatible');
    expect(err.message).to.contain("encoding version changed from 1 to 2");
    expect(await geo.toDisplay(points)).to.deep.equal(before);
    expect(await geo.encodingVersion()).to.equal("1");
    host.dispose();
  });
});
