// dev.uni.max-register 1.0.0: one CRDT kind, `max-register` (see max-register.ts).
// Its manifest is max-register-v1.manifest.json, compiled in by the build.
import { registerCrdtKind } from "../../sdk/assemblyscript/crdt";
import { KIND, MaxRegisterKind } from "./max-register";

export * from "../../sdk/assemblyscript/crdt-exports";

registerCrdtKind(KIND, new MaxRegisterKind());
