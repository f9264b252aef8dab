// dev.uni.crdt 2.0.0: g-counter, pn-counter, lww-register, or-set; writes persisted format 3.
// Its manifest is crdt-v2-incompatible.manifest.json, compiled in by the build.
import { usePersistFormat } from "./format";
import { registerKinds } from "./kinds";

export * from "../../sdk/assemblyscript/crdt-exports";

usePersistFormat(3, "2.0.0");
registerKinds();
