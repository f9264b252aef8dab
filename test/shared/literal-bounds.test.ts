// Logical-type literals of any size, against the real types-v1 sample: a literal over the type's length bound
// (4096 bytes by default) is refused with code 4 before it is parsed, and one under it is parsed in time linear
// in its length, exactly (a number with more significant digits than any double's rounding boundary still
// rounds correctly).
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects } from "./host-util.ts";

describe("logical-type literals are bounded and parsed in linear time", () => {
  let host: PluginHost;
  beforeAll(async () => {
    // The host's own literal bound (HostOptions.maxLiteralBytes) is raised above the plugin's, so these literals
    // reach the plugin and its bound is what refuses them (the host's is tested in host-input.test.ts).
    host = new PluginHost({ maxLiteralBytes: 64 * 1024 * 1024 });
    await host.load(await loadPlugin("types-v1"));
  });

  it("refuses a 10 MB WKT literal with code 4, naming the row, its size and the limit", async () => {
    const huge = `POINT(${"1".repeat(10 * 1024 * 1024)} 2)`;
    const err = await expectRejects(host.logicalType("geo.point").fromLiteral(["POINT(1 2)", huge]), {
      code: ErrorCode.ResourceLimit,
      message: [
        "row 1: a literal of 10485769 bytes is longer than this type's limit of 4096 bytes",
        "nothing was parsed",
      ],
    });
    expect(err).to.be.instanceOf(PluginCallError);
  });

  it("refuses a long uuid literal the same way, and keeps serving", async () => {
    const uuid = host.logicalType("uuid");
    await expectRejects(uuid.fromLiteral([`{${"0".repeat(5000)}}`]), {
      code: ErrorCode.ResourceLimit,
      message: "row 0: a literal of 5002 bytes",
    });
    const ok = await uuid.fromLiteral(["123e4567-e89b-12d3-a456-426614174000"]);
    expect(await uuid.toDisplay(ok)).to.deep.equal(["123e4567-e89b-12d3-a456-426614174000"]);
  });

  it("parses a number with more significant digits than any rounding boundary, exactly", async () => {
    // 100 + 2^-47 is exactly halfway between 100 and the next double (100 + 2^-46); ties go to even (100),
    // but any non-zero digit after it, however far out, must round up. The tail sits past the 800
    // significant digits the parser keeps.
    const halfway = "100.00000000000000710542735760100185871124267578125";
    const justAbove = `${halfway}${"0".repeat(3000)}1`;
    const justAt = `${halfway}${"0".repeat(3000)}`;
    const table = await host.logicalType("geo.point").fromLiteral([`POINT(${justAbove} 0)`, `POINT(${justAt} 0)`]);
    const xs = [...(table.getChildAt(0) ?? [])].map((p) => (p ? [...(p as Iterable<number>)][0] : null));
    // what an exact parser gives (the engine's own Number(text) is one)
    expect(Number(justAt)).to.equal(100);
    expect(Number(justAbove)).to.equal(100 + 2 ** -46);
    expect(xs).to.deep.equal([Number(justAbove), Number(justAt)]);
  });

  it("names a literal that is not a point by its first bytes only", async () => {
    const bad = `POINT(1 2 ${"x".repeat(3000)})`;
    const err = await expectRejects(host.logicalType("geo.point").fromLiteral([bad]), { code: 0x101 });
    expect(err.message).to.contain('row 0: "POINT(1 2 xxxx');
    expect(err.message.length).to.be.below(200);
  });

  it("quotes a long literal without cutting a surrogate pair (a lone half is not UTF-8), and keeps serving", async () => {
    const geo = host.logicalType("geo.point");
    const err = await expectRejects(geo.fromLiteral([`POINT(${"\u{1F600}".repeat(40)})`]), { code: 0x101 });
    expect(err.message).to.contain(`row 0: "POINT(${"\u{1F600}".repeat(25)}..."`);
    expect(await geo.toDisplay(await geo.fromLiteral(["POINT(1 2)"]))).to.deep.equal(["POINT(1 2)"]);
  });
});
