// dev.uni.crdt 1.0.0: g-counter, pn-counter, lww-register, or-set; writes persisted format 1.
// Its manifest is crdt-v1.manifest.json, compiled in by the build.
import { usePersistFormat } from "./format";
import { registerKinds } from "./kinds";

export * from "../../sdk/assemblyscript/crdt-exports";

usePersistFormat(1, "1.0.0");
registerKinds();
