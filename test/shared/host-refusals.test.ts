// Refused loads: bad bytes, other worlds, manifests the host does not accept, capabilities it does not grant,
// registry collisions. Each must be a typed error with code, message (and `field` for manifest errors) and must
// leave nothing registered. Fixtures: test/fixtures/wat/host-*.wat (bad manifests), index-echo, cdc-emit*.
import { describe, expect, it } from "#test";
import { ErrorCode, LoadError, ManifestError, PluginHost, RegistryError } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { expectNothingRegistered, expectRejects } from "./host-util.ts";

describe("PluginHost.load refuses components it cannot run", () => {
  for (const [fixture, code, message] of [
    ["garbage", ErrorCode.InvalidComponent, "not a WebAssembly binary"],
    ["core-module", ErrorCode.InvalidComponent, "core WebAssembly module, not a component"],
    ["wasi-run-only", ErrorCode.WrongWorld, "wasi:cli/run"],
    ["wasi-command", ErrorCode.WrongWorld, "wasi:cli/environment"],
  ] as const) {
    it(`refuses ${fixture} as a LoadError (code ${code})`, async () => {
      const host = new PluginHost();
      const err = await expectRejects(host.load(await loadFixture(fixture)), { code, message, retryable: false });
      expect(err).to.be.instanceOf(LoadError);
      expectNothingRegistered(host, []);
    });
  }

  it("refuses empty bytes", async () => {
    const host = new PluginHost();
    await expectRejects(host.load(new Uint8Array()), { code: ErrorCode.InvalidComponent });
    expectNothingRegistered(host, []);
  });
});

describe("PluginHost.load refuses manifests", () => {
  it("with an unknown key, naming it", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-unknown-key")), {
      code: ErrorCode.InvalidManifest,
      field: "colour",
      message: ["colour", "unknown key"],
      retryable: false,
    });
    expect(err).to.be.instanceOf(ManifestError);
    expectNothingRegistered(host, [["index", "echo"]]);
  });

  it("with an id that is not reverse-DNS", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-malformed-id")), {
      code: ErrorCode.InvalidManifest,
      field: "id",
      message: '"Host_Fixture"',
    });
    expect(err).to.be.instanceOf(ManifestError);
    expectNothingRegistered(host, [["index", "echo"]]);
  });

  it("with a version that is not semver", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-bad-semver")), {
      code: ErrorCode.InvalidManifest,
      field: "version",
      message: ['"1.0"', "semver"],
    });
    expect(err).to.be.instanceOf(ManifestError);
    expectNothingRegistered(host, [["index", "echo"]]);
  });

  it("with an ABI range the host does not implement, listing the supported majors", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-abi-2")), {
      code: ErrorCode.AbiUnsupported,
      field: "abi",
      message: "^2.0",
      pluginId: "test.fixture.host-abi-2",
      retryable: false,
    });
    expect(err).to.be.instanceOf(ManifestError);
    expect(err.message).to.match(/majors?\b[^0-9]*\b1\b/);
    expectNothingRegistered(host, [["index", "echo"]]);
  });

  it("declaring a kind that kinds() does not list (a lying manifest)", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-lying-kind")), {
      code: ErrorCode.InvalidManifest,
      field: "provides.index_kinds",
      message: "ghost",
      pluginId: "test.fixture.host-lying-kind",
    });
    expect(err).to.be.instanceOf(ManifestError);
    // "echo" is implemented, but the plugin is all-or-nothing: it must not be registered either.
    expectNothingRegistered(host, [
      ["index", "echo"],
      ["index", "ghost"],
    ]);
  });

  it("declaring a surface the component does not export", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("host-missing-surface")), {
      code: ErrorCode.InvalidManifest,
      field: "provides.crdt_kinds",
      message: ["g-counter", "uni:plugin/crdt"],
      pluginId: "test.fixture.host-missing-surface",
    });
    expect(err).to.be.instanceOf(ManifestError);
    expectNothingRegistered(host, [
      ["index", "twin-only"],
      ["crdt", "g-counter"],
    ]);
  });
});

describe("PluginHost.load refuses capabilities it does not grant", () => {
  it("a surface capability the host does not grant", async () => {
    const host = new PluginHost({ grants: ["crdt", "cdc", "cdc-sink", "logical-type"] });
    const err = await expectRejects(host.load(await loadPlugin("vector-flat-v1")), {
      code: ErrorCode.CapabilityDenied,
      message: ['"index"', "not granted", "vector.flat"],
      pluginId: "dev.uni.vector-flat",
      retryable: false,
    });
    expect(err).to.be.instanceOf(RegistryError);
    expectNothingRegistered(host, [["index", "vector.flat"]]);
  });

  it("a capability narrowed away for one load only", async () => {
    const host = new PluginHost();
    await expectRejects(host.load(await loadPlugin("crdt-v1"), { grants: ["index"] }), {
      code: ErrorCode.CapabilityDenied,
      message: '"crdt"',
    });
    expectNothingRegistered(host, [["crdt", "g-counter"]]);
    // The host itself still grants it: the same bytes load without the narrowing.
    await host.load(await loadPlugin("crdt-v1"));
    expect(host.provider("crdt", "g-counter")?.id).to.equal("dev.uni.crdt");
  });

  it("the cdc-sink host import when not granted", async () => {
    const host = new PluginHost({ grants: ["cdc"] });
    const err = await expectRejects(host.load(await loadPlugin("changelog-v1")), {
      code: ErrorCode.CapabilityDenied,
      message: ["cdc-sink", "not granted"],
      // The id is in the manifest: the refusal must name the plugin, not "(unknown plugin)".
      pluginId: "dev.uni.changelog",
    });
    expect(err.message).to.contain("dev.uni.changelog");
    expectNothingRegistered(host, [["cdc", "changelog"]]);
  });

  it("the cdc-sink host import when the manifest does not declare it", async () => {
    const host = new PluginHost();
    const err = await expectRejects(host.load(await loadFixture("cdc-emit-undeclared")), {
      code: ErrorCode.CapabilityDenied,
      message: ["cdc-sink", "not declared"],
      pluginId: "test.fixture.cdc-emit",
    });
    expect(err).to.be.instanceOf(RegistryError);
    expectNothingRegistered(host, [["cdc", "changelog"]]);
  });
});

describe("PluginHost.load refuses registry collisions", () => {
  it("a registry key another plugin holds, registering none of the newcomer's keys", async () => {
    const host = new PluginHost();
    const echo = await host.load(await loadFixture("index-echo"));
    const err = await expectRejects(host.load(await loadFixture("host-echo-twin")), {
      code: ErrorCode.DuplicateKey,
      message: ['"echo"', "test.fixture.index-echo", "test.fixture.host-echo-twin"],
      pluginId: "test.fixture.host-echo-twin",
    });
    expect(err).to.be.instanceOf(RegistryError);
    expect(host.plugins().map((p) => p.id)).to.deep.equal(["test.fixture.index-echo"]);
    expect(host.provider("index", "echo")).to.deep.equal(echo);
    expect(host.provider("index", "twin")).to.equal(undefined);
  });

  it("the same plugin id twice, keeping the first", async () => {
    const host = new PluginHost();
    const bytes = await loadFixture("index-echo");
    const first = await host.load(bytes);
    const err = await expectRejects(host.load(bytes), {
      code: ErrorCode.DuplicateKey,
      message: ["test.fixture.index-echo", "already loaded", "reload"],
      pluginId: "test.fixture.index-echo",
    });
    expect(err).to.be.instanceOf(RegistryError);
    const infos = host.plugins();
    expect(infos).to.have.length(1);
    expect(infos[0]?.generation).to.equal(first.generation);
    expect(host.provider("index", "echo")).to.deep.equal(first);
  });

  it("leaves the first plugin serving after a refused collision", async () => {
    const host = new PluginHost();
    await host.load(await loadFixture("index-echo"));
    await expectRejects(host.load(await loadFixture("host-echo-twin")), { code: ErrorCode.DuplicateKey });
    const idx = await host.createIndex("e", "echo", new Uint8Array([1, 2, 3]));
    expect([...(await idx.persist())]).to.deep.equal([1, 2, 3]);
  });
});
