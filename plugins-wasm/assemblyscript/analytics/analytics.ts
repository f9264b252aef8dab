// What both analytics versions share: which CRDT kinds and logical type they
// bundle, registered from the crdt/ and types/ samples' own code. Their
// manifests (analytics-v1/v2.manifest.json) list exactly those; the build
// checks that. Only the persisted CRDT format differs.
import { registerLogicalType } from "../../sdk/assemblyscript/logical-type";
import { usePersistFormat } from "../crdt/format";
import { registerKindsNamed } from "../crdt/kinds";
import { G_COUNTER, PN_COUNTER } from "../crdt/model";
import { GEO_POINT, GeoPoint } from "../types/geo-point";

const CRDT_KINDS: string[] = [PN_COUNTER, G_COUNTER];

/** Registers the bundle; `persistFormat` is the crdt sample's format (1 = v1 MessagePack, 2 = v2 binary, reads 1). */
export function registerAnalytics(version: string, persistFormat: i32): void {
  usePersistFormat(persistFormat, version);
  registerKindsNamed(CRDT_KINDS);
  // geo.point encoding 1 in both versions: stored points read the same after a reload.
  registerLogicalType(GEO_POINT, new GeoPoint("1"));
}
