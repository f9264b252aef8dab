// dev.uni.max-register 1.0.0: one CRDT kind, `max-register` (see max-register.ts). The manifest below is
// manifest.json, verbatim in content (AssemblyScript cannot read files at compile time); the plugin's test
// checks that the component's manifest equals manifest.json.
import { registerCrdtKind } from "../../sdk/assemblyscript/crdt";
import { setManifest } from "../../sdk/assemblyscript/manifest";
import { KIND, MaxRegisterKind } from "./max-register";

export * from "../../sdk/assemblyscript/crdt-exports";

registerCrdtKind(KIND, new MaxRegisterKind());
setManifest(
  '{"id":"dev.uni.max-register","version":"1.0.0","abi":"^1.0",' +
    '"description":"A max-register CRDT: keeps the greatest integer any replica wrote (persisted format 1)",' +
    '"capabilities":["crdt"],' +
    '"provides":{"index_kinds":[],"cdc_outputs":[],"crdt_kinds":["max-register"],"logical_types":[]},' +
    '"determinism":"pure","side_effects":"read-only","scope":"instance","depends_on":[]}',
);
