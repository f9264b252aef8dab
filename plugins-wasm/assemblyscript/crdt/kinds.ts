// Bridges the models to the SDK's CrdtState/CrdtKind and registers the kinds.
import { CrdtKind, CrdtState, registerCrdtKind } from "../../sdk/assemblyscript/crdt";
import { FnError, Result, malformed } from "../../sdk/assemblyscript/error";
import { MpValue, mpDecode } from "../../sdk/assemblyscript/msgpack";
import { decodePersisted, encodePersisted } from "./format";
import { G_COUNTER, LWW_REGISTER, Model, OR_SET, PN_COUNTER, newModel } from "./model";

class ModelState extends CrdtState {
  constructor(public model: Model) {
    super();
  }

  apply(op: Uint8Array): FnError | null {
    const d = mpDecode(op);
    if (d.error != null) return malformed(`${this.model.kind} op is not MessagePack: ${d.error!}`);
    return this.model.applyOp(changetype<MpValue>(d.value), op);
  }

  merge(otherPersisted: Uint8Array): FnError | null {
    // Decode fully before touching this state: an error leaves it unchanged.
    const other = decodePersisted(this.model.kind, otherPersisted);
    if (!other.isOk) return other.error;
    this.model.mergeFrom(other.unwrap());
    return null;
  }

  value(): Result<Uint8Array> {
    return this.model.value();
  }

  persist(): Result<Uint8Array> {
    return Result.ok<Uint8Array>(encodePersisted(this.model));
  }
}

class ModelKind extends CrdtKind {
  constructor(public name: string) {
    super();
  }

  empty(): CrdtState {
    return new ModelState(changetype<Model>(newModel(this.name)));
  }

  fromPersisted(bytes: Uint8Array): Result<CrdtState> {
    const m = decodePersisted(this.name, bytes);
    if (!m.isOk) return Result.err<CrdtState>(changetype<FnError>(m.error));
    return Result.ok<CrdtState>(new ModelState(m.unwrap()));
  }
}

export const KIND_NAMES: string[] = [G_COUNTER, PN_COUNTER, LWW_REGISTER, OR_SET];

export function registerKinds(): void {
  for (let i = 0; i < KIND_NAMES.length; i++) registerCrdtKind(KIND_NAMES[i], new ModelKind(KIND_NAMES[i]));
}

/** Registers just `names` (a subset of KIND_NAMES), for plugins that bundle a few kinds with other surfaces. */
export function registerKindsNamed(names: string[]): void {
  for (let i = 0; i < names.length; i++) registerCrdtKind(names[i], new ModelKind(names[i]));
}
