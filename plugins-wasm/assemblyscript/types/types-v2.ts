// dev.uni.types 2.0.0: geo.point (encoding 1) and uuid (braces accepted: true).
import { registerLogicalType } from "../../sdk/assemblyscript/logical-type";
import { jsonStringArray, setManifest } from "../../sdk/assemblyscript/manifest";
import { GEO_POINT, GeoPoint } from "./geo-point";
import { UUID, Uuid } from "./uuid";

export * from "../../sdk/assemblyscript/logical-type-exports";

registerLogicalType(GEO_POINT, new GeoPoint("1"));
registerLogicalType(UUID, new Uuid(true));
setManifest(
  '{"id":"dev.uni.types","version":"2.0.0","abi":"^1.0",' +
    '"description":"Logical types geo.point (WKT points over FixedSizeList[2]<Float64>) and uuid (FixedSizeBinary[16])",' +
    '"capabilities":["logical-type"],' +
    '"provides":{"index_kinds":[],"cdc_outputs":[],"crdt_kinds":[],"logical_types":' +
    jsonStringArray([GEO_POINT, UUID]) +
    "}," +
    '"determinism":"pure","side_effects":"read-only","scope":"instance","depends_on":[]}',
);
