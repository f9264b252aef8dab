// dev.uni.analytics 1.0.0: pn-counter, g-counter (crdt-v1's persisted format 1) and geo.point (encoding 1).
// Its manifest is analytics-v1.manifest.json, compiled in by the build.
import { registerAnalytics } from "./analytics";

// Both surfaces' exports; each module also re-exports cabi_realloc and manifest, one binding each.
export * from "../../sdk/assemblyscript/crdt-exports";
export * from "../../sdk/assemblyscript/logical-type-exports";

registerAnalytics("1.0.0", 1);
