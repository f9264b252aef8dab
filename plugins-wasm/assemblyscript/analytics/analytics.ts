// What both analytics versions share: which CRDT kinds and logical type they
// bundle, registered from the crdt/ and types/ samples' own code, and one
// manifest listing exactly those. Only the persisted CRDT format differs.
import { registerLogicalType } from "../../sdk/assemblyscript/logical-type";
import { jsonStringArray, setManifest } from "../../sdk/assemblyscript/manifest";
import { usePersistFormat } from "../crdt/format";
import { registerKindsNamed } from "../crdt/kinds";
import { G_COUNTER, PN_COUNTER } from "../crdt/model";
import { GEO_POINT, GeoPoint } from "../types/geo-point";

const CRDT_KINDS: string[] = [PN_COUNTER, G_COUNTER];
const LOGICAL_TYPES: string[] = [GEO_POINT];

/** Registers the bundle; `persistFormat` is the crdt sample's format (1 = v1 MessagePack, 2 = v2 binary, reads 1). */
export function registerAnalytics(version: string, persistFormat: i32): void {
  usePersistFormat(persistFormat, version);
  registerKindsNamed(CRDT_KINDS);
  // geo.point encoding 1 in both versions: stored points read the same after a reload.
  registerLogicalType(GEO_POINT, new GeoPoint("1"));
  setManifest(
    '{"id":"dev.uni.analytics","version":"' +
      version +
      '","abi":"^1.0",' +
      '"description":"Analytics bundle: pn-counter and g-counter CRDTs with the geo.point logical type, in one component",' +
      '"capabilities":["crdt","logical-type"],' +
      '"provides":{"index_kinds":[],"cdc_outputs":[],"crdt_kinds":' +
      jsonStringArray(CRDT_KINDS) +
      ',"logical_types":' +
      jsonStringArray(LOGICAL_TYPES) +
      "}," +
      '"determinism":"pure","side_effects":"read-only","scope":"instance","depends_on":[]}',
  );
}
