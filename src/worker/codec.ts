/**
 * The binary encoding of requests and responses in the shared-memory channel: a tagged value tree
 * (primitives, bigints of any size, strings, byte lists, arrays, and {@link Opaque} stand-ins) written
 * straight into the channel's `SharedArrayBuffer` and read back on the other side. The `postMessage`
 * channel sends the same trees through structured clone instead.
 *
 * Bytes are copied into the buffer once and handed on as views (the worker writes them into guest
 * memory from there); a value that must not be copied at all — bytes over a `SharedArrayBuffer` —, a
 * byte list over the writer's inline limit, or a tree that does not fit makes the writer throw
 * {@link NotInline}, and the caller sends the tree by message.
 *
 * @module
 */

/**
 * What crosses for an argument that is neither a primitive nor a `Uint8Array` (a table, an array, a
 * function…): enough to rebuild a stand-in whose description in a `TypeCoercion` message is the same
 * as the original's (`got a Float32Array`, `got an array`, `got function`).
 */
export interface Opaque {
  readonly opaque: "object" | "array" | "function" | "symbol";
  /** For an object: what an error message calls its kind (`constructor.name`, or `object`). */
  readonly name: string;
}

/** Thrown by {@link Writer} when the tree cannot go inline: too big, or bytes that are shared. */
export class NotInline extends Error {
  override name = "NotInline";
}
const notInline = new NotInline("not inline");

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_F64 = 4;
const T_U64 = 5;
const T_I64 = 6;
const T_BIGINT = 7;
const T_STRING = 8;
const T_BYTES = 9;
const T_ARRAY = 10;
const T_OPAQUE = 11;
const T_I32 = 12;

const U64_LIMIT = 1n << 64n;
const I64_MIN = -(1n << 63n);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Chromium refuses to encode into or decode from a view of shared memory; there a private copy is used. */
const sharedText = (() => {
  if (typeof SharedArrayBuffer !== "function") return { encode: false, decode: false };
  const view = new Uint8Array(new SharedArrayBuffer(4));
  return { encode: works(() => encoder.encodeInto("a", view)), decode: works(() => decoder.decode(view)) };
})();

function works(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

/** Strings up to this many UTF-16 units are tried as ASCII, byte by byte (names, kinds: the common case). */
const SHORT = 64;

/** Whether `bytes` lives in shared memory (and so can be handed over without copying). */
export function isShared(bytes: Uint8Array): boolean {
  return typeof SharedArrayBuffer === "function" && bytes.buffer instanceof SharedArrayBuffer;
}

/** Writes one value tree at the start of `u8`; `end` is where it stopped. */
export class Writer {
  end = 0;
  declare private readonly u8: Uint8Array;
  declare private readonly dv: DataView;
  /** Byte lists longer than this are not written inline (the caller sends them by message instead). */
  declare private readonly maxInlineBytes: number;

  constructor(u8: Uint8Array, maxInlineBytes = Number.POSITIVE_INFINITY) {
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.maxInlineBytes = maxInlineBytes;
  }

  /** Starts over at offset 0. */
  reset(): this {
    this.end = 0;
    return this;
  }

  private room(n: number): number {
    const at = this.end;
    if (at + n > this.u8.length) throw notInline;
    this.end = at + n;
    return at;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "undefined":
        this.u8[this.room(1)] = T_UNDEFINED;
        return;
      case "boolean":
        this.u8[this.room(1)] = v ? T_TRUE : T_FALSE;
        return;
      case "number":
        if ((v | 0) === v && !Object.is(v, -0)) {
          const at = this.room(5);
          this.u8[at] = T_I32;
          this.dv.setInt32(at + 1, v, true);
        } else {
          const at = this.room(9);
          this.u8[at] = T_F64;
          this.dv.setFloat64(at + 1, v, true);
        }
        return;
      case "bigint":
        this.bigint(v);
        return;
      case "string":
        this.string(v);
        return;
      default:
        if (v === null) {
          this.u8[this.room(1)] = T_NULL;
        } else if (v instanceof Uint8Array) {
          this.bytes(v);
        } else if (Array.isArray(v)) {
          const at = this.room(5);
          this.u8[at] = T_ARRAY;
          this.dv.setUint32(at + 1, v.length, true);
          for (const item of v) this.value(item);
        } else if (isOpaque(v as object)) {
          this.u8[this.room(1)] = T_OPAQUE;
          this.string((v as Opaque).opaque);
          this.string((v as Opaque).name);
        } else {
          throw new TypeError(`codec: cannot encode ${Object.prototype.toString.call(v)}`);
        }
    }
  }

  private bigint(v: bigint): void {
    if (v >= 0n && v < U64_LIMIT) {
      const at = this.room(9);
      this.u8[at] = T_U64;
      this.dv.setBigUint64(at + 1, v, true);
    } else if (v < 0n && v >= I64_MIN) {
      const at = this.room(9);
      this.u8[at] = T_I64;
      this.dv.setBigInt64(at + 1, v, true);
    } else {
      this.u8[this.room(1)] = T_BIGINT;
      this.string(v.toString());
    }
  }

  private string(s: string): void {
    const at = this.room(5);
    const u8 = this.u8;
    u8[at] = T_STRING;
    const start = this.end;
    const n = s.length;
    if (n > u8.length - start) throw notInline; // every UTF-16 unit is at least one UTF-8 byte
    if (n <= SHORT) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        u8[start + i] = c;
      }
      if (i === n) {
        this.dv.setUint32(at + 1, n, true);
        this.end = start + n;
        return;
      }
    }
    let written: number;
    if (sharedText.encode || !isShared(u8)) {
      const r = encoder.encodeInto(s, u8.subarray(start));
      if (r.read !== n) throw notInline;
      written = r.written;
    } else {
      const bytes = encoder.encode(s);
      if (bytes.length > u8.length - start) throw notInline;
      u8.set(bytes, start);
      written = bytes.length;
    }
    this.dv.setUint32(at + 1, written, true);
    this.end = start + written;
  }

  private bytes(b: Uint8Array): void {
    // Shared bytes are handed over by reference, never copied; big ones are better moved than copied twice.
    if (isShared(b) || b.length > this.maxInlineBytes) throw notInline;
    const at = this.room(5 + b.length);
    this.u8[at] = T_BYTES;
    this.dv.setUint32(at + 1, b.length, true);
    this.u8.set(b, at + 5);
  }
}

/** Reads one value tree written by {@link Writer}. */
export class Reader {
  private at = 0;
  declare private readonly u8: Uint8Array;
  declare private readonly dv: DataView;
  /** Whether byte lists come out as private copies (main: results outlive the channel) or as views (worker). */
  declare private readonly copyBytes: boolean;

  constructor(u8: Uint8Array, copyBytes: boolean) {
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.copyBytes = copyBytes;
  }

  reset(): this {
    this.at = 0;
    return this;
  }

  value(): unknown {
    const at = this.at;
    const tag = this.u8[at];
    this.at = at + 1;
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_I32:
        this.at = at + 5;
        return this.dv.getInt32(at + 1, true);
      case T_F64:
        this.at = at + 9;
        return this.dv.getFloat64(at + 1, true);
      case T_U64:
        this.at = at + 9;
        return this.dv.getBigUint64(at + 1, true);
      case T_I64:
        this.at = at + 9;
        return this.dv.getBigInt64(at + 1, true);
      case T_BIGINT:
        return BigInt(this.value() as string);
      case T_STRING:
        return this.string(at);
      case T_BYTES: {
        const len = this.dv.getUint32(at + 1, true);
        const start = at + 5;
        this.at = start + len;
        return this.copyBytes ? this.u8.slice(start, start + len) : this.u8.subarray(start, start + len);
      }
      case T_ARRAY: {
        const n = this.dv.getUint32(at + 1, true);
        this.at = at + 5;
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case T_OPAQUE: {
        const opaque = this.value() as Opaque["opaque"];
        const name = this.value() as string;
        return { opaque, name } satisfies Opaque;
      }
      default:
        throw new TypeError(`codec: unknown tag ${tag} at ${at}`);
    }
  }

  private string(at: number): string {
    const len = this.dv.getUint32(at + 1, true);
    const start = at + 5;
    this.at = start + len;
    const u8 = this.u8;
    if (len <= SHORT) {
      let ascii = "";
      let i = start;
      for (; i < start + len; i++) {
        const c = u8[i] as number;
        if (c >= 0x80) break;
        ascii += String.fromCharCode(c);
      }
      if (i === start + len) return ascii;
    }
    const view = u8.subarray(start, start + len);
    return decoder.decode(sharedText.decode || !isShared(view) ? view : view.slice());
  }
}

function isOpaque(v: object): v is Opaque {
  return typeof (v as Opaque).opaque === "string" && typeof (v as Opaque).name === "string";
}

/**
 * An argument as it crosses: primitives and `Uint8Array`s as they are, anything else as an
 * {@link Opaque} stand-in (so the worker's argument checks refuse it with the in-thread message).
 */
export function toWire(v: unknown): unknown {
  switch (typeof v) {
    case "function":
      return { opaque: "function", name: "" } satisfies Opaque;
    case "symbol":
      return { opaque: "symbol", name: "" } satisfies Opaque;
    case "object":
      if (v === null || v instanceof Uint8Array) return v;
      if (Array.isArray(v)) return { opaque: "array", name: "" } satisfies Opaque;
      return { opaque: "object", name: String((v as object).constructor?.name ?? "object") } satisfies Opaque;
    default:
      return v;
  }
}

/** The worker's stand-in for an {@link Opaque} argument; other values come back unchanged. */
export function fromWire(v: unknown): unknown {
  if (typeof v !== "object" || v === null || v instanceof Uint8Array) return v;
  const o = v as Opaque;
  switch (o.opaque) {
    case "function":
      return () => {};
    case "symbol":
      return Symbol("opaque");
    case "array":
      return [];
    default:
      return o.name === "Object" ? {} : { constructor: { name: o.name } };
  }
}
