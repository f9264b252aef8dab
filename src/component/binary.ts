/**
 * A small reader of the WebAssembly binary formats, just enough for the host:
 * the component layer (core modules, import and export names) and a core
 * module's type / import / function / memory / export sections. Everything it
 * does not need it skips by section size. Malformed input is a
 * `LoadError(InvalidComponent)`, never a RangeError.
 *
 * @module
 */
import { ErrorCode, LoadError } from "../errors.ts";

/** A reader over bytes that reports truncation as a typed error. */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
    readonly what = "component",
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string): never {
    throw new LoadError(ErrorCode.InvalidComponent, `invalid ${this.what}: ${message} (at byte ${this.pos})`);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail("unexpected end of bytes (truncated?)");
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) this.fail("LEB128 u32 out of range");
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  /** Signed LEB128 (s33 / s64 style); only used to skip, so the value may be approximate beyond 2^53. */
  sleb(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - mul : result;
    }
    return this.fail("LEB128 too long");
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail("a length runs past the end (truncated?)");
    this.pos += n;
  }

  take(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, start + n);
  }

  name(): string {
    const len = this.u32();
    try {
      return utf8.decode(this.take(len));
    } catch {
      return this.fail("a name is not valid UTF-8");
    }
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Which kind of wasm binary: `"module"` (version 1, layer 0) or `"component"` (layer 1). */
export function binaryKind(bytes: Uint8Array): "module" | "component" {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new LoadError(ErrorCode.InvalidComponent, "invalid component: not a WebAssembly binary (no \\0asm preamble)");
  }
  const layer = (bytes[6] as number) | ((bytes[7] as number) << 8);
  if (layer === 0) return "module";
  if (layer === 1) return "component";
  throw new LoadError(ErrorCode.InvalidComponent, `invalid component: unknown binary layer ${layer}`);
}

// ---------------------------------------------------------------- component layer

/** What the host needs from a component binary. */
export interface ComponentSummary {
  /** Core modules of the component's own section 1, in order (views into the input). */
  coreModules: Uint8Array[];
  /** Component-level import names, e.g. `uni:plugin/host-log@1.0.0`. */
  imports: string[];
  /** Component-level export names, e.g. `manifest`, `uni:plugin/index@1.0.0`. */
  exports: string[];
}

const COMPONENT_SECTION_CORE_MODULE = 1;
const COMPONENT_SECTION_IMPORT = 10;
const COMPONENT_SECTION_EXPORT = 11;

/** Reads a component's top-level sections. A core module is refused with a message saying so. */
export function readComponent(bytes: Uint8Array): ComponentSummary {
  if (binaryKind(bytes) === "module") {
    throw new LoadError(
      ErrorCode.InvalidComponent,
      "invalid component: this is a core WebAssembly module, not a component; wrap it with componentize (jco componentNew) into a uni:plugin world",
    );
  }
  if (bytes[4] !== 0x0d || bytes[5] !== 0x00) {
    throw new LoadError(
      ErrorCode.InvalidComponent,
      `invalid component: unsupported component binary version 0x${(bytes[4] as number).toString(16)}`,
    );
  }
  const r = new ByteReader(bytes, 8);
  const summary: ComponentSummary = { coreModules: [], imports: [], exports: [] };
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail(`section ${id} runs past the end (truncated?)`);
    const section = new ByteReader(bytes, r.pos, end);
    if (id === COMPONENT_SECTION_CORE_MODULE) summary.coreModules.push(bytes.subarray(r.pos, end));
    else if (id === COMPONENT_SECTION_IMPORT) readExternNames(section, summary.imports, false);
    else if (id === COMPONENT_SECTION_EXPORT) readExternNames(section, summary.exports, true);
    r.pos = end;
  }
  return summary;
}

function readExternNames(r: ByteReader, into: string[], isExport: boolean): void {
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    // 0x00 plain name; 0x01 is the historical "interface name" marker: same layout.
    const tag = r.byte();
    if (tag !== 0x00 && tag !== 0x01) r.fail(`unknown extern name tag 0x${tag.toString(16)}`);
    into.push(r.name());
    if (isExport) {
      // sortidx, then an optional ascribed externdesc.
      const sort = r.byte();
      if (sort === 0x00) r.byte(); // core sort
      r.u32();
      if (r.byte() === 0x01) skipExternDesc(r);
    } else {
      skipExternDesc(r);
    }
  }
}

function skipExternDesc(r: ByteReader): void {
  const kind = r.byte();
  switch (kind) {
    case 0x00: // core module type
      r.byte();
      r.u32();
      return;
    case 0x01: // func
    case 0x04: // component
    case 0x05: // instance
      r.u32();
      return;
    case 0x02: // value: 0x00 valueidx | 0x01 valtype
      r.byte();
      r.sleb();
      return;
    case 0x03: // type bound: 0x00 eq typeidx | 0x01 sub resource
      if (r.byte() === 0x00) r.u32();
      return;
    default:
      r.fail(`unknown externdesc kind 0x${kind.toString(16)}`);
  }
}

// ---------------------------------------------------------------- core module layer

/** A core value type as a short letter string: `i` i32, `I` i64, `f` f32, `F` f64, `v` v128, `r` a reference. */
export type ValType = "i" | "I" | "f" | "F" | "v" | "r";

/** A function signature, written `"iii>i"` (params `>` results) for easy comparison. */
export type Signature = string;

export interface CoreImport {
  module: string;
  name: string;
  /** `"func"`, `"table"`, `"memory"`, `"global"` or `"tag"`. */
  kind: string;
  /** For functions: the signature. */
  signature?: Signature;
}

export interface CoreExport {
  name: string;
  kind: string;
  signature?: Signature;
}

export interface MemoryLimits {
  min: number;
  max?: number;
  shared: boolean;
  memory64: boolean;
}

export interface CoreModuleSummary {
  imports: CoreImport[];
  exports: CoreExport[];
  /** Memories the module defines (not imports). */
  memories: MemoryLimits[];
  /** The memory section: where its id byte is, and the range [start, end) of its contents. */
  memorySection?: { headerStart: number; start: number; end: number };
}

const EXTERN_KINDS = ["func", "table", "memory", "global", "tag"];

/** Reads the parts of a core module the host validates. */
export function readCoreModule(bytes: Uint8Array): CoreModuleSummary {
  if (binaryKind(bytes) !== "module") {
    throw new LoadError(ErrorCode.InvalidComponent, "invalid component: a core module slot holds a component");
  }
  const r = new ByteReader(bytes, 8, bytes.length, "core module");
  const types: Signature[] = [];
  const funcTypes: number[] = []; // function index space → type index
  const summary: CoreModuleSummary = { imports: [], exports: [], memories: [] };
  while (!r.done) {
    const headerStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail(`section ${id} runs past the end (truncated?)`);
    const s = new ByteReader(bytes, r.pos, end, "core module");
    switch (id) {
      case 1:
        readTypes(s, types);
        break;
      case 2:
        readImports(s, types, funcTypes, summary);
        break;
      case 3: {
        const n = s.u32();
        for (let i = 0; i < n; i++) funcTypes.push(s.u32());
        break;
      }
      case 5: {
        summary.memorySection = { headerStart, start: s.pos, end };
        const n = s.u32();
        for (let i = 0; i < n; i++) summary.memories.push(readLimits(s));
        break;
      }
      case 7: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const name = s.name();
          const kind = EXTERN_KINDS[s.byte()] ?? s.fail("unknown export kind");
          const index = s.u32();
          const exp: CoreExport = { name, kind };
          if (kind === "func") {
            const t = funcTypes[index];
            if (t === undefined || types[t] === undefined) s.fail(`export ${name} names an unknown function`);
            exp.signature = types[t];
          }
          summary.exports.push(exp);
        }
        break;
      }
    }
    r.pos = end;
  }
  return summary;
}

function valType(r: ByteReader): ValType {
  const b = r.byte();
  switch (b) {
    case 0x7f:
      return "i";
    case 0x7e:
      return "I";
    case 0x7d:
      return "f";
    case 0x7c:
      return "F";
    case 0x7b:
      return "v";
    case 0x70:
    case 0x6f:
      return "r";
    case 0x63:
    case 0x64: // (ref null? heaptype)
      r.sleb();
      return "r";
    default:
      return r.fail(`unsupported value type 0x${b.toString(16)}`);
  }
}

function readTypes(r: ByteReader, into: Signature[]): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const form = r.byte();
    if (form !== 0x60) r.fail("only plain function types are supported (GC / rec types are not)");
    let sig = "";
    const params = r.u32();
    for (let p = 0; p < params; p++) sig += valType(r);
    sig += ">";
    const results = r.u32();
    for (let p = 0; p < results; p++) sig += valType(r);
    into.push(sig);
  }
}

function readLimits(r: ByteReader): MemoryLimits {
  const flags = r.byte();
  if (flags > 0x07) r.fail(`unknown memory limits flags 0x${flags.toString(16)}`);
  const memory64 = (flags & 0x04) !== 0;
  const min = memory64 ? r.sleb() : r.u32();
  const limits: MemoryLimits = { min, shared: (flags & 0x02) !== 0, memory64 };
  if (flags & 0x01) limits.max = memory64 ? r.sleb() : r.u32();
  return limits;
}

function readImports(r: ByteReader, types: Signature[], funcTypes: number[], summary: CoreModuleSummary): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const kindByte = r.byte();
    const kind = EXTERN_KINDS[kindByte] ?? r.fail(`unknown import kind 0x${kindByte.toString(16)}`);
    const imp: CoreImport = { module, name, kind };
    switch (kindByte) {
      case 0: {
        const t = r.u32();
        if (types[t] === undefined) r.fail(`import ${module}.${name} names an unknown type`);
        imp.signature = types[t];
        funcTypes.push(t);
        break;
      }
      case 1:
        valType(r);
        readLimits(r);
        break;
      case 2:
        readLimits(r);
        break;
      case 3:
        valType(r);
        r.byte();
        break;
      case 4:
        r.byte();
        r.u32();
        break;
    }
    summary.imports.push(imp);
  }
}

// ---------------------------------------------------------------- memory ceiling rewrite

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/**
 * Returns a copy of `bytes` whose single memory has `max = min(declared max, ceilingPages)`.
 * The caller has already checked there is exactly one 32-bit, unshared memory with `min <= ceilingPages`.
 */
export function withMemoryCeiling(bytes: Uint8Array, summary: CoreModuleSummary, ceilingPages: number): Uint8Array {
  const section = summary.memorySection;
  const memory = summary.memories[0];
  if (!section || !memory) return bytes;
  const max = Math.min(memory.max ?? ceilingPages, ceilingPages);
  if (memory.max === max) return bytes; // already within the ceiling
  const contents = [...uleb(1), 0x01, ...uleb(memory.min), ...uleb(max)];
  const headerStart = section.headerStart;
  const header = [0x05, ...uleb(contents.length)];
  const out = new Uint8Array(bytes.length - (section.end - headerStart) + header.length + contents.length);
  out.set(bytes.subarray(0, headerStart), 0);
  out.set(header, headerStart);
  out.set(contents, headerStart + header.length);
  out.set(bytes.subarray(section.end), headerStart + header.length + contents.length);
  return out;
}
