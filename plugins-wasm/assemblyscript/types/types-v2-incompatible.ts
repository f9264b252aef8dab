// dev.uni.types 2.0.0: geo.point (encoding 2) and uuid (braces accepted: true).
// Its manifest is types-v2-incompatible.manifest.json, compiled in by the build.
import { registerLogicalType } from "../../sdk/assemblyscript/logical-type";
import { GEO_POINT, GeoPoint } from "./geo-point";
import { UUID, Uuid } from "./uuid";

export * from "../../sdk/assemblyscript/logical-type-exports";

registerLogicalType(GEO_POINT, new GeoPoint("2"));
registerLogicalType(UUID, new Uuid(true));
