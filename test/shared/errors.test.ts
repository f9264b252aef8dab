import { describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, toPluginError } from "../../src/errors.ts";

describe("errors", () => {
  it("serialise with code, message and retryable, never [object Object]", () => {
    const err = new PluginCallError(0x101, "dimension 3 != 4", { retryable: true, pluginId: "dev.uni.x" });
    expect(JSON.parse(JSON.stringify(err))).to.deep.equal({
      name: "PluginCallError",
      code: 0x101,
      message: "dimension 3 != 4",
      retryable: true,
      pluginId: "dev.uni.x",
    });
    expect(String(err)).to.equal("PluginCallError: dimension 3 != 4");
  });
  it("wrap non-Error throwables without losing their text", () => {
    const err = toPluginError({ code: 7, reason: "odd" }, "dev.uni.y");
    expect(err.code).to.equal(ErrorCode.Trap);
    expect(err.message).to.contain("odd");
    expect(err.message).not.to.contain("[object Object]");
  });
});
