// dev.uni.crdt 2.0.0: g-counter, pn-counter, lww-register, or-set; writes persisted format 3.
import { jsonStringArray, setManifest } from "../../sdk/assemblyscript/manifest";
import { usePersistFormat } from "./format";
import { KIND_NAMES, registerKinds } from "./kinds";

export * from "../../sdk/assemblyscript/crdt-exports";

usePersistFormat(3, "2.0.0");
registerKinds();
setManifest(
  '{"id":"dev.uni.crdt","version":"2.0.0","abi":"^1.0",' +
    '"description":"State-based CRDT kinds: counters, a last-writer-wins register and an observed-remove set (persisted format 3)",' +
    '"capabilities":["crdt"],' +
    '"provides":{"index_kinds":[],"cdc_outputs":[],"crdt_kinds":' +
    jsonStringArray(KIND_NAMES) +
    ',"logical_types":[]},' +
    '"determinism":"pure","side_effects":"read-only","scope":"instance","depends_on":[]}',
);
