// The max-register CRDT kind: a register that keeps the greatest 64-bit integer written to it, on any replica.
// Merge takes the maximum, so it is commutative, associative and idempotent, and applying a write equals
// merging the state that holds only that write.
//
//   op        a MessagePack integer in the i64 range (int or uint)
//   value     nil until the first write, then the greatest integer written (MessagePack int)
//   persisted MessagePack {"format": 1, "kind": "max-register", "max": nil | int}, keys in this order,
//             integers in their shortest encoding (so equal states persist to equal bytes)
//
// Errors: 2 malformed MessagePack or persisted bytes of the wrong shape; 0x101 an op that is not an i64
// integer; 0x102 persisted bytes of another kind (names both); 0x103 a persisted format this version cannot read.
import { CrdtKind, CrdtState } from "../../sdk/assemblyscript/crdt";
import { FnError, Result, fnError, malformed } from "../../sdk/assemblyscript/error";
import { MpKind, MpValue, MpWriter, mpDecode } from "../../sdk/assemblyscript/msgpack";

export const KIND = "max-register";
export const CODE_BAD_OP: u32 = 0x101;
export const CODE_WRONG_KIND: u32 = 0x102;
export const CODE_UNSUPPORTED_FORMAT: u32 = 0x103;
const FORMAT: u64 = 1;

/** Decoded persisted bytes: whether a value was ever written, and the greatest one. */
class Decoded {
  constructor(
    public has: bool,
    public max: i64,
  ) {}
}

class MaxState extends CrdtState {
  constructor(
    public has: bool,
    public max: i64,
  ) {
    super();
  }

  apply(op: Uint8Array): FnError | null {
    const d = mpDecode(op);
    if (d.error != null) return malformed(`max-register op is not MessagePack: ${d.error!}`);
    const v = changetype<MpValue>(d.value);
    if ((v.kind != MpKind.Int && v.kind != MpKind.Uint) || !v.isI64) {
      return fnError(CODE_BAD_OP, `max-register op must be an integer in the i64 range, got ${v.describe()}`);
    }
    this.raise(true, v.asI64);
    return null;
  }

  merge(otherPersisted: Uint8Array): FnError | null {
    // Decode fully before touching this state: an error leaves it unchanged.
    const other = decodePersisted(otherPersisted);
    if (!other.isOk) return other.error;
    const o = other.unwrap();
    this.raise(o.has, o.max);
    return null;
  }

  value(): Result<Uint8Array> {
    const w = new MpWriter();
    if (this.has) w.int(this.max);
    else w.nil();
    return Result.ok<Uint8Array>(w.finish());
  }

  persist(): Result<Uint8Array> {
    const w = new MpWriter().map(3);
    w.str("format").uint(FORMAT);
    w.str("kind").str(KIND);
    w.str("max");
    if (this.has) w.int(this.max);
    else w.nil();
    return Result.ok<Uint8Array>(w.finish());
  }

  private raise(has: bool, max: i64): void {
    if (!has) return;
    if (!this.has || max > this.max) this.max = max;
    this.has = true;
  }
}

export class MaxRegisterKind extends CrdtKind {
  empty(): CrdtState {
    return new MaxState(false, 0);
  }

  fromPersisted(bytes: Uint8Array): Result<CrdtState> {
    const d = decodePersisted(bytes);
    if (!d.isOk) return Result.err<CrdtState>(changetype<FnError>(d.error));
    const s = d.unwrap();
    return Result.ok<CrdtState>(new MaxState(s.has, s.max));
  }
}

/** Reads format 1; says which kind or format it found when it cannot. */
function decodePersisted(bytes: Uint8Array): Result<Decoded> {
  if (bytes.length > 0 && bytes[0] == 0xc1) {
    // dev.uni.crdt's binary formats start with 0xc1, never a MessagePack type byte.
    return Result.err<Decoded>(
      fnError(CODE_UNSUPPORTED_FORMAT, "persisted bytes are in a binary CRDT format; max-register 1.0.0 reads format 1"),
    );
  }
  const d = mpDecode(bytes);
  if (d.error != null) return Result.err<Decoded>(malformed(`persisted max-register is not MessagePack: ${d.error!}`));
  const root = changetype<MpValue>(d.value);
  if (root.kind != MpKind.Map) {
    return Result.err<Decoded>(malformed(`persisted max-register must be a map, got ${root.describe()}`));
  }
  const format = root.get("format");
  if (format == null || format.kind != MpKind.Uint) {
    return Result.err<Decoded>(malformed('persisted max-register has no "format" number'));
  }
  if (format.u != FORMAT) {
    return Result.err<Decoded>(
      fnError(CODE_UNSUPPORTED_FORMAT, `persisted format ${format.u} is not readable by max-register 1.0.0 (it reads format 1)`),
    );
  }
  const kind = root.get("kind");
  if (kind == null || kind.kind != MpKind.Str) return Result.err<Decoded>(malformed('persisted state has no "kind" string'));
  if (kind.s != KIND) {
    return Result.err<Decoded>(fnError(CODE_WRONG_KIND, `persisted bytes hold a "${kind.s}" state, not "${KIND}"`));
  }
  if (root.keys.length != 3) {
    return Result.err<Decoded>(malformed(`persisted max-register must have 3 keys, found ${root.keys.length}`));
  }
  const max = root.get("max");
  if (max == null) return Result.err<Decoded>(malformed('persisted max-register has no "max" key'));
  if (max.kind == MpKind.Nil) return Result.ok<Decoded>(new Decoded(false, 0));
  if ((max.kind != MpKind.Int && max.kind != MpKind.Uint) || !max.isI64) {
    return Result.err<Decoded>(malformed(`persisted max-register "max" must be nil or an i64 integer, got ${max.describe()}`));
  }
  return Result.ok<Decoded>(new Decoded(true, max.asI64));
}
