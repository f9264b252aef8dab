// dev.uni.analytics 2.0.0: pn-counter, g-counter (crdt-v2's persisted format 2, reads and merges format 1)
// Its manifest is analytics-v2.manifest.json, compiled in by the build.
// and geo.point (encoding 1, unchanged so stored points and literals read the same).
import { registerAnalytics } from "./analytics";

// Both surfaces' exports; each module also re-exports cabi_realloc and manifest, one binding each.
export * from "../../sdk/assemblyscript/crdt-exports";
export * from "../../sdk/assemblyscript/logical-type-exports";

registerAnalytics("2.0.0", 2);
