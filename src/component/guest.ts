/**
 * The state every call into one instance shares: its linear memory, its
 * allocator, the poison / dispose state, and the canonical-ABI lifting and
 * lowering helpers the surface clients use. Internal to src/component and
 * src/surfaces; the public face is `ComponentInstance`.
 *
 * Hot-path rules (the benchmark holds calls to <= 1.5x a raw core call):
 * no closures or arrays per call, memory views cached and re-derived only when
 * `memory.buffer` changes (growth detaches the old buffer).
 *
 * @module
 */
import { ErrorCode, PluginCallError, PluginError, TrapError } from "../errors.ts";

export const LIVE = 0;
export const POISONED = 1;
export const DISPOSED = 2;

type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** A guest ABI violation found while lifting a result: handled like a trap (the guest is broken). */
class AbiViolation extends Error {
  override name = "AbiViolation";
}

export class Guest {
  /** LIVE, POISONED or DISPOSED. */
  state = LIVE;
  /**
   * True while calls may enter wasm: LIVE and not inside a host import. The
   * hot path reads this one boolean field (cheaper than comparing `state` to
   * an imported constant, which some module runners turn into a getter call).
   */
  live = true;
  /** True while a host import (log, emit) runs: the guest is mid-call, so re-entry is refused. */
  inImport = false;
  /** What the guest's abort handler logged just before trapping (see `makeLog`), for the trap's message. */
  abortMessage = "";
  /** Why the instance is poisoned, for the message of every later refusal. */
  poisonReason = "";
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private dv: DataView;

  // Assigned once in the constructor and never declared as class fields, so
  // V8 keeps them constant and can inline calls through them.
  declare readonly memory: WebAssembly.Memory;
  declare private readonly realloc: Realloc;
  /** The host ceiling, named in trap messages. */
  declare readonly memoryPagesCeiling: number;
  /** Mutable: the host may learn the real id from the manifest after instantiating. */
  declare pluginId: string;

  constructor(pluginId: string, memory: WebAssembly.Memory, realloc: Realloc, memoryPagesCeiling: number) {
    this.pluginId = pluginId;
    this.memory = memory;
    this.realloc = realloc;
    this.memoryPagesCeiling = memoryPagesCeiling;
    this.buffer = memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  /** Entering a host callback from inside an import: client calls are refused until it returns. */
  enterImport(): void {
    this.inImport = true;
    this.live = false;
  }

  leaveImport(): void {
    this.inImport = false;
    this.live = this.state === LIVE;
  }

  // ------------------------------------------------------------ state

  /** Throws the right refusal for a call on a non-live instance (or a dropped handle). */
  refuse(what: string, dropped = false): never {
    if (this.inImport) {
      throw new PluginError(
        ErrorCode.Forbidden,
        `plugin ${this.pluginId}: ${what} called from inside one of its own host imports (log or cdc-sink); the component model forbids re-entering an instance`,
        { pluginId: this.pluginId },
      );
    }
    if (this.state === DISPOSED) {
      throw new PluginError(ErrorCode.Disposed, `plugin ${this.pluginId}: ${what} called after dispose()`, {
        pluginId: this.pluginId,
      });
    }
    if (this.state === POISONED) {
      throw new TrapError(
        ErrorCode.Poisoned,
        `plugin ${this.pluginId} is poisoned (${this.poisonReason}); ${what} refused without entering wasm`,
        { pluginId: this.pluginId },
      );
    }
    if (dropped) {
      throw new PluginError(ErrorCode.StaleHandle, `plugin ${this.pluginId}: ${what} called on a dropped handle`, {
        pluginId: this.pluginId,
      });
    }
    throw new PluginError(ErrorCode.Trap, `plugin ${this.pluginId}: ${what} refused`, { pluginId: this.pluginId });
  }

  /**
   * Turns whatever escaped a core call into a TrapError and poisons the
   * instance: its memory may be half-written, so nothing may enter it again.
   */
  trap(err: unknown, what: string): TrapError {
    let original = err instanceof Error ? err.message : typeof err === "string" ? err : safeJson(err);
    if (this.abortMessage) {
      original += `; the plugin said: ${this.abortMessage}`;
      this.abortMessage = "";
    }
    // Say how full memory is: a guest allocator that hits the host ceiling usually traps, not errors.
    const pages = this.memory.buffer.byteLength / 65536;
    const message = `plugin ${this.pluginId} trapped in ${what}: ${original} (linear memory ${pages} pages, host ceiling ${this.memoryPagesCeiling} pages)`;
    if (this.live) {
      this.state = POISONED;
      this.live = false;
      this.poisonReason = `${what} trapped: ${original}`;
    }
    return new TrapError(ErrorCode.Trap, message, { pluginId: this.pluginId, cause: err });
  }

  // ------------------------------------------------------------ memory

  /** The current memory as bytes; re-derived when growth replaced the buffer. */
  bytes(): Uint8Array {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.u8;
  }

  view(): DataView {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.dv;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  // ------------------------------------------------------------ lowering (host → guest)

  /** Allocates `bytes.length` in the guest and copies once. Returns the pointer (len is the caller's). */
  writeBytes(bytes: Uint8Array): number {
    const len = bytes.length;
    // wasm hands an i32 back: a pointer at or above 2 GiB arrives negative, so read it as unsigned.
    const ptr = this.realloc(0, 0, 1, len) >>> 0;
    if (len === 0) return ptr;
    const mem = this.bytes(); // after realloc: it may have grown memory
    if (ptr === 0 || ptr + len > mem.length) {
      throw new AbiViolation(`cabi_realloc returned [${ptr}, +${len}), outside the ${mem.length}-byte linear memory`);
    }
    mem.set(bytes, ptr);
    return ptr;
  }

  /** Encodes a string to UTF-8 bytes (kept by the caller for its length). */
  encode(s: string): Uint8Array {
    return utf8.encode(s);
  }

  // ------------------------------------------------------------ lifting (guest → host)

  /**
   * Checks a guest-supplied `[ptr, +len)` (both read as unsigned 32-bit, as
   * the canonical ABI defines them) against the current memory and returns
   * `ptr` as an unsigned offset.
   *
   * # Errors
   * Throws `AbiViolation` (handled as a trap) when the range does not lie inside linear memory.
   */
  range(ptr: number, len: number, what: string): number {
    const p = ptr >>> 0;
    const n = len >>> 0;
    const size = this.bytes().length;
    if (p + n > size) {
      throw new AbiViolation(`${what} [${p}, +${n}) lies outside the ${size}-byte linear memory`);
    }
    return p;
  }

  /** An area of `size` bytes at the guest-supplied `at` (a return area, or a pointer into one). */
  private area(at: number, size: number): number {
    return this.range(at, size, "result area");
  }

  private checkRange(ptr: number, len: number): void {
    if (ptr + len > this.u8.length) throw new AbiViolation(`result [${ptr}, +${len}) lies outside linear memory`);
  }

  /** A `list<u8>` at `[ptr@at, len@at+4]`, copied out once. */
  copyList(at: number): Uint8Array {
    at = this.area(at, 8);
    const dv = this.view();
    const ptr = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    this.checkRange(ptr, len);
    return this.u8.slice(ptr, ptr + len);
  }

  /** A `list<u8>` at `at`, as a view into guest memory (valid until the next guest call or memory growth). */
  lendList(at: number): Uint8Array {
    at = this.area(at, 8);
    const dv = this.view();
    const ptr = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    this.checkRange(ptr, len);
    return this.u8.subarray(ptr, ptr + len);
  }

  string(at: number): string {
    at = this.area(at, 8);
    const dv = this.view();
    const ptr = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    this.checkRange(ptr, len);
    try {
      return utf8Strict.decode(this.u8.subarray(ptr, ptr + len));
    } catch {
      throw new AbiViolation("a string result is not valid UTF-8");
    }
  }

  /** A `list<string>` at `at`. */
  strings(at: number): string[] {
    at = this.area(at, 8);
    const dv = this.view();
    const ptr = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    this.checkRange(ptr, len * 8);
    const out = new Array<string>(len);
    for (let i = 0; i < len; i++) out[i] = this.string(ptr + i * 8);
    return out;
  }

  /**
   * The discriminant of a `result<_, fn-error>`-shaped area: `undefined` when ok,
   * the plugin's error when err. `errAt` is the offset of the fn-error payload
   * (4 for the 20-byte results, 8 for `result<u64, fn-error>`).
   */
  resultError(area: number, errAt = 4): PluginCallError | undefined {
    area = this.area(area, errAt + 16);
    const dv = this.view();
    const tag = dv.getUint8(area);
    if (tag === 0) return undefined;
    if (tag !== 1) throw new AbiViolation(`result discriminant ${tag} is neither ok (0) nor err (1)`);
    const code = dv.getUint32(area + errAt, true);
    const message = this.string(area + errAt + 4);
    const retryable = dv.getUint8(area + errAt + 12) !== 0;
    return new PluginCallError(code, message, { retryable, pluginId: this.pluginId });
  }

  /** Writes `result<_, fn-error>` for an import's return area (used by `cdc-sink.emit`). */
  writeResult(area: number, error: PluginError | undefined): void {
    area = this.range(area, 20, "return area");
    if (!error) {
      this.view().setUint8(area, 0);
      return;
    }
    const msg = utf8.encode(error.message);
    const msgPtr = this.writeBytes(msg);
    const dv = this.view();
    dv.setUint8(area, 1);
    dv.setUint32(area + 4, error.code, true);
    dv.setUint32(area + 8, msgPtr, true);
    dv.setUint32(area + 12, msg.length, true);
    dv.setUint8(area + 16, error.retryable ? 1 : 0);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
