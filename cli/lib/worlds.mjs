// The uni:plugin@1.0.0 worlds (wit/worlds.wit) and the core exports each surface needs (docs/abi.md), as the
// build sees them before jco does: so a missing export macro or re-export is reported with its fix, not as a
// wit-component trace. test/cli/worlds.test.ts keeps these tables equal to the runtime's (src/component/abi.ts).

export const PACKAGE_VERSION = "1.0.0";

/** `uni:plugin/<iface>@1.0.0` */
export function interfaceName(iface) {
  return `uni:plugin/${iface}@${PACKAGE_VERSION}`;
}

/** World → the surfaces it exports, in wit/worlds.wit order. */
export const WORLDS = {
  "index-plugin": ["index"],
  "cdc-plugin": ["cdc"],
  "crdt-plugin": ["crdt"],
  "type-plugin": ["logical-type"],
  "analytics-plugin": ["crdt", "logical-type"],
  "multi-plugin": ["index", "cdc", "crdt", "logical-type"],
};

/** The manifest's `provides` key per surface (docs/manifest.md). */
export const PROVIDES_KEY = {
  index: "index_kinds",
  cdc: "cdc_outputs",
  crdt: "crdt_kinds",
  "logical-type": "logical_types",
};

/** Per surface: the function names after `#` in its core exports. */
export const SURFACE_FUNCTIONS = {
  index: [
    "kinds",
    "build",
    "open",
    "[method]index-handle.probe",
    "[method]index-handle.supports-filter",
    "[method]index-handle.probe-filtered",
    "[method]index-handle.persist",
    "[method]index-handle.schema",
    "[dtor]index-handle",
  ],
  cdc: [
    "outputs",
    "start",
    "[method]cdc-stream.deliver",
    "[method]cdc-stream.checkpoint",
    "[method]cdc-stream.shutdown",
    "[dtor]cdc-stream",
  ],
  crdt: [
    "kinds",
    "empty",
    "from-persisted",
    "[method]crdt-state.apply",
    "[method]crdt-state.merge",
    "[method]crdt-state.value",
    "[method]crdt-state.persist",
    "[dtor]crdt-state",
  ],
  "logical-type": ["names", "arrow-type", "encoding-version", "from-literal", "to-display", "cast-to", "cast-from"],
};

/** Exports every world has. */
export const BASE_EXPORTS = ["memory", "cabi_realloc", "manifest"];

/** What each language's SDK offers per surface, and the line that exports it. */
export const SDK_EXPORTS = {
  rust: {
    index: (entry) =>
      `add \`uni_plugin_sdk::export_index_plugin!(YourProvider, manifest = include_str!("../manifest.json"));\` to ${entry}`,
    cdc: (entry) =>
      `add \`uni_plugin_sdk::export_cdc_plugin!(YourOutput, manifest = include_str!("../manifest.json"));\` to ${entry}`,
  },
  assemblyscript: {
    crdt: (entry, sdk) => `add \`export * from "${sdk}/crdt-exports";\` to ${entry}`,
    "logical-type": (entry, sdk) => `add \`export * from "${sdk}/logical-type-exports";\` to ${entry}`,
  },
};

/** The surfaces a manifest provides something for. */
export function declaredSurfaces(manifest) {
  return Object.keys(PROVIDES_KEY).filter((s) => (manifest.provides?.[PROVIDES_KEY[s]] ?? []).length > 0);
}

/** The world whose exports are exactly `surfaces`, or undefined. */
export function worldExporting(surfaces) {
  const want = [...new Set(surfaces)].sort().join(",");
  return Object.keys(WORLDS).find((w) => [...WORLDS[w]].sort().join(",") === want);
}

/** The surface a core export belongs to (`uni:plugin/crdt@1.0.0#kinds` → crdt), if any. */
export function surfaceOfExport(name) {
  const m = /^(?:cabi_post_)?uni:plugin\/([a-z-]+)@[^#]+#/.exec(name);
  return m && m[1] in SURFACE_FUNCTIONS ? m[1] : undefined;
}
