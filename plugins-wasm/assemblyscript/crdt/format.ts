// Persisted formats. The entry file picks which one this build writes:
//  1: MessagePack {format: 1, kind, state}                    (crdt-v1)
//  2: compact binary, magic c1 75 63 02, varints and a string table
//     of interned replica ids / elements / tags; reads 1 and 2 (crdt-v2)
//  3: the same layout under magic c1 75 63 03; reads only 3
//     (crdt-v2-incompatible: stands for a format break)
// 0xc1 is never a MessagePack type byte, so a binary state can never be
// mistaken for a v1 one.
import { ByteReader, ByteWriter, isValidUtf8, fromUtf8, sortUtf8, utf8 } from "../../sdk/assemblyscript/bytes";
import { FnError, Result, fnError, malformed } from "../../sdk/assemblyscript/error";
import { MpKind, MpValue, MpWriter, mpDecode } from "../../sdk/assemblyscript/msgpack";
import { G_COUNTER, GCounter, LWW_REGISTER, LwwRegister, Model, OR_SET, OrSet, PN_COUNTER, PNCounter, newModel } from "./model";

/** Persisted bytes of another kind. */
export const CODE_WRONG_KIND: u32 = 0x102;
/** Persisted bytes in a format this version cannot read. */
export const CODE_UNSUPPORTED_FORMAT: u32 = 0x103;

let writeFormat: i32 = 1;
let pluginVersion = "1.0.0";

/** Selects the format this build writes (and therefore what it reads). */
export function usePersistFormat(format: i32, version: string): void {
  writeFormat = format;
  pluginVersion = version;
}

const MAGIC0: u8 = 0xc1;
const MAGIC1: u8 = 0x75; // 'u'
const MAGIC2: u8 = 0x63; // 'c'

const KIND_CODES: string[] = [G_COUNTER, PN_COUNTER, LWW_REGISTER, OR_SET];

function wrongKind(expected: string, found: string): FnError {
  return fnError(CODE_WRONG_KIND, `persisted bytes hold a "${found}" state, not "${expected}"`);
}

// ---- encoding ----------------------------------------------------------------

export function encodePersisted(model: Model): Uint8Array {
  return writeFormat == 1 ? encodeV1(model) : encodeBinary(model, <u8>writeFormat);
}

function encodeV1(model: Model): Uint8Array {
  const w = new MpWriter().map(3);
  w.str("format").uint(1);
  w.str("kind").str(model.kind);
  w.str("state");
  const kind = model.kind;
  if (kind == G_COUNTER) v1Counts(w, changetype<GCounter>(model));
  else if (kind == PN_COUNTER) {
    const pn = changetype<PNCounter>(model);
    w.map(2);
    w.str("n");
    v1Counts(w, pn.n);
    w.str("p");
    v1Counts(w, pn.p);
  } else if (kind == LWW_REGISTER) {
    const lww = changetype<LwwRegister>(model);
    if (!lww.has) w.nil();
    else w.array(3).uint(lww.timestamp).str(lww.replica).raw(lww.raw);
  } else {
    const set = changetype<OrSet>(model);
    w.map(2);
    w.str("adds");
    v1Tags(w, set.adds);
    w.str("removes");
    v1Tags(w, set.removes);
  }
  return w.finish();
}

function v1Counts(w: MpWriter, g: GCounter): void {
  const replicas = g.replicas();
  w.map(<u32>replicas.length);
  for (let i = 0; i < replicas.length; i++) w.str(replicas[i]).uint(g.counts.get(replicas[i]));
}

function v1Tags(w: MpWriter, tags: Map<string, Set<string>>): void {
  const elements = sortUtf8(tags.keys());
  w.map(<u32>elements.length);
  for (let i = 0; i < elements.length; i++) {
    const t = sortUtf8(tags.get(elements[i]).values());
    w.str(elements[i]).array(<u32>t.length);
    for (let k = 0; k < t.length; k++) w.str(t[k]);
  }
}

/** Interns strings in first-use order, so equal states encode to equal bytes. */
class Interner {
  index: Map<string, u32> = new Map<string, u32>();
  strings: string[] = [];

  id(s: string): u64 {
    if (!this.index.has(s)) {
      this.index.set(s, <u32>this.strings.length);
      this.strings.push(s);
    }
    return <u64>this.index.get(s);
  }
}

function encodeBinary(model: Model, version: u8): Uint8Array {
  const strings = new Interner();
  const body = new ByteWriter();
  const kind = model.kind;
  if (kind == G_COUNTER) binCounts(body, strings, changetype<GCounter>(model));
  else if (kind == PN_COUNTER) {
    binCounts(body, strings, changetype<PNCounter>(model).p);
    binCounts(body, strings, changetype<PNCounter>(model).n);
  } else if (kind == LWW_REGISTER) {
    const lww = changetype<LwwRegister>(model);
    body.u8(lww.has ? 1 : 0);
    if (lww.has) {
      body.varint(lww.timestamp);
      body.varint(strings.id(lww.replica));
      body.varint(<u64>lww.raw.length);
      body.bytes(lww.raw);
    }
  } else {
    binTags(body, strings, changetype<OrSet>(model).adds);
    binTags(body, strings, changetype<OrSet>(model).removes);
  }
  const out = new ByteWriter(body.length + 32);
  out.u8(MAGIC0);
  out.u8(MAGIC1);
  out.u8(MAGIC2);
  out.u8(version);
  out.u8(<u32>KIND_CODES.indexOf(kind) + 1);
  out.varint(<u64>strings.strings.length);
  for (let i = 0; i < strings.strings.length; i++) {
    const b = utf8(strings.strings[i]);
    out.varint(<u64>b.length);
    out.bytes(b);
  }
  out.bytes(body.finish());
  return out.finish();
}

function binCounts(w: ByteWriter, strings: Interner, g: GCounter): void {
  const replicas = g.replicas();
  w.varint(<u64>replicas.length);
  for (let i = 0; i < replicas.length; i++) {
    w.varint(strings.id(replicas[i]));
    w.varint(g.counts.get(replicas[i]));
  }
}

function binTags(w: ByteWriter, strings: Interner, tags: Map<string, Set<string>>): void {
  const elements = sortUtf8(tags.keys());
  w.varint(<u64>elements.length);
  for (let i = 0; i < elements.length; i++) {
    const t = sortUtf8(tags.get(elements[i]).values());
    w.varint(strings.id(elements[i]));
    w.varint(<u64>t.length);
    for (let k = 0; k < t.length; k++) w.varint(strings.id(t[k]));
  }
}

// ---- decoding ----------------------------------------------------------------

/** Decodes persisted bytes of `kind` in any format this build reads. */
export function decodePersisted(kind: string, bytes: Uint8Array): Result<Model> {
  const isBinary = bytes.length >= 4 && bytes[0] == MAGIC0 && bytes[1] == MAGIC1 && bytes[2] == MAGIC2;
  if (writeFormat == 3) {
    if (isBinary && bytes[3] == 3) return decodeBinary(kind, bytes);
    return Result.err<Model>(
      fnError(
        CODE_UNSUPPORTED_FORMAT,
        `persisted ${kind} bytes are not in format 3 (magic c1 75 63 03); dev.uni.crdt ${pluginVersion} cannot read ${describeFormat(bytes)}`,
      ),
    );
  }
  if (isBinary) {
    if (writeFormat == 2 && bytes[3] == 2) return decodeBinary(kind, bytes);
    return Result.err<Model>(
      fnError(
        CODE_UNSUPPORTED_FORMAT,
        `persisted ${kind} bytes are ${describeFormat(bytes)}, which dev.uni.crdt ${pluginVersion} cannot read`,
      ),
    );
  }
  return decodeV1(kind, bytes);
}

function describeFormat(bytes: Uint8Array): string {
  if (bytes.length >= 4 && bytes[0] == MAGIC0 && bytes[1] == MAGIC1 && bytes[2] == MAGIC2) {
    return `binary format ${bytes[3]}`;
  }
  if (bytes.length == 0) return "empty bytes";
  return "format 1 (MessagePack) or unknown bytes";
}

function badV1(kind: string, what: string): Result<Model> {
  return Result.err<Model>(malformed(`persisted ${kind} state (format 1) is malformed: ${what}`));
}

function decodeV1(kind: string, bytes: Uint8Array): Result<Model> {
  const d = mpDecode(bytes);
  if (d.error != null) return badV1(kind, `not MessagePack: ${d.error!}`);
  const root = changetype<MpValue>(d.value);
  if (root.kind != MpKind.Map) return badV1(kind, `expected a map, got ${root.describe()}`);
  const k = root.get("kind");
  if (k == null || k.kind != MpKind.Str) return badV1(kind, `no "kind" string`);
  if (k.s != kind) return Result.err<Model>(wrongKind(kind, k.s));
  const f = root.get("format");
  if (f == null || f.kind != MpKind.Uint) return badV1(kind, `no "format" number`);
  if (f.u != 1) {
    return Result.err<Model>(fnError(CODE_UNSUPPORTED_FORMAT, `persisted ${kind} state has format ${f.u}; expected 1`));
  }
  const s = root.get("state");
  if (s == null) return badV1(kind, `no "state"`);
  const state = changetype<MpValue>(s);
  const model = changetype<Model>(newModel(kind));
  let problem: string | null = null;
  if (kind == G_COUNTER) problem = v1ReadCounts(changetype<GCounter>(model), state);
  else if (kind == PN_COUNTER) {
    const pn = changetype<PNCounter>(model);
    if (state.kind != MpKind.Map) problem = `state: expected a map, got ${state.describe()}`;
    else {
      const p = state.get("p");
      const n = state.get("n");
      if (p == null || n == null) problem = `state needs "p" and "n"`;
      else {
        problem = v1ReadCounts(pn.p, p);
        if (problem == null) problem = v1ReadCounts(pn.n, n);
      }
    }
  } else if (kind == LWW_REGISTER) {
    const lww = changetype<LwwRegister>(model);
    if (state.kind != MpKind.Nil) {
      if (state.kind != MpKind.Array || state.items.length != 3) problem = `state: expected nil or [ts, replica, value]`;
      else {
        const ts = state.items[0];
        const replica = state.items[1];
        const v = state.items[2];
        if (ts.kind != MpKind.Uint || replica.kind != MpKind.Str) problem = `state: expected [uint, str, value]`;
        else lww.offer(ts.u, replica.s, bytes.slice(v.start, v.end));
      }
    }
  } else {
    const set = changetype<OrSet>(model);
    if (state.kind != MpKind.Map) problem = `state: expected a map, got ${state.describe()}`;
    else {
      const adds = state.get("adds");
      const removes = state.get("removes");
      if (adds == null || removes == null) problem = `state needs "adds" and "removes"`;
      else {
        problem = v1ReadTags(set.adds, adds);
        if (problem == null) problem = v1ReadTags(set.removes, removes);
      }
    }
  }
  if (problem != null) return badV1(kind, changetype<string>(problem));
  return Result.ok<Model>(model);
}

function v1ReadCounts(g: GCounter, m: MpValue): string | null {
  if (m.kind != MpKind.Map) return `counts: expected a map, got ${m.describe()}`;
  for (let i = 0; i < m.keys.length; i++) {
    const k = m.keys[i];
    const v = m.values[i];
    if (k.kind != MpKind.Str || v.kind != MpKind.Uint) return `counts: expected str -> uint entries`;
    g.raise(k.s, v.u);
  }
  return null;
}

function v1ReadTags(into: Map<string, Set<string>>, m: MpValue): string | null {
  if (m.kind != MpKind.Map) return `tags: expected a map, got ${m.describe()}`;
  for (let i = 0; i < m.keys.length; i++) {
    const k = m.keys[i];
    const v = m.values[i];
    if (k.kind != MpKind.Str || v.kind != MpKind.Array) return `tags: expected str -> [str] entries`;
    for (let t = 0; t < v.items.length; t++) {
      if (v.items[t].kind != MpKind.Str) return `tags: expected str -> [str] entries`;
      OrSet.tag(into, k.s, v.items[t].s);
    }
  }
  return null;
}

class BinReader {
  r: ByteReader;
  strings: string[] = [];

  constructor(bytes: Uint8Array) {
    this.r = new ByteReader(bytes);
  }

  count(what: string): i32 {
    const n = this.r.varint(what);
    // every entry takes at least one byte: refuse counts the input cannot hold
    if (!this.r.failed && n > <u64>this.r.remaining) {
      this.r.fail(`${what}: count ${n} exceeds the ${this.r.remaining} bytes left`);
      return 0;
    }
    return <i32>n;
  }

  str(what: string): string {
    const i = this.r.varint(what);
    if (this.r.failed) return "";
    if (i >= <u64>this.strings.length) {
      this.r.fail(`${what}: string index ${i} out of range (table has ${this.strings.length})`);
      return "";
    }
    return this.strings[<i32>i];
  }
}

function decodeBinary(kind: string, bytes: Uint8Array): Result<Model> {
  const b = new BinReader(bytes);
  const r = b.r;
  r.pos = 4;
  const code = <i32>r.u8("kind code");
  if (r.failed) return Result.err<Model>(malformed(`persisted ${kind} state: ${r.error!}`));
  if (code < 1 || code > KIND_CODES.length) {
    return Result.err<Model>(malformed(`persisted ${kind} state: unknown kind code ${code}`));
  }
  const found = KIND_CODES[code - 1];
  if (found != kind) return Result.err<Model>(wrongKind(kind, found));
  const nStrings = b.count("string table size");
  for (let i = 0; i < nStrings && !r.failed; i++) {
    const len = b.count("string length");
    if (r.failed) break;
    if (!isValidUtf8(r.data, r.pos, r.pos + len)) {
      r.fail(`string ${i} is not valid UTF-8`);
      break;
    }
    b.strings.push(fromUtf8(r.data, r.pos, r.pos + len));
    r.pos += len;
  }
  const model = changetype<Model>(newModel(kind));
  if (kind == G_COUNTER) binReadCounts(b, changetype<GCounter>(model));
  else if (kind == PN_COUNTER) {
    binReadCounts(b, changetype<PNCounter>(model).p);
    binReadCounts(b, changetype<PNCounter>(model).n);
  } else if (kind == LWW_REGISTER) {
    const has = r.u8("lww flag");
    if (has > 1) r.fail(`lww flag must be 0 or 1, got ${has}`);
    if (has == 1 && !r.failed) {
      const ts = r.varint("lww timestamp");
      const replica = b.str("lww replica");
      const len = b.count("lww value length");
      const raw = r.take(len, "lww value");
      if (!r.failed) {
        const check = mpDecode(raw);
        if (check.error != null) r.fail(`lww value is not MessagePack: ${check.error!}`);
        else changetype<LwwRegister>(model).offer(ts, replica, raw);
      }
    }
  } else {
    binReadTags(b, changetype<OrSet>(model).adds);
    binReadTags(b, changetype<OrSet>(model).removes);
  }
  if (!r.failed && r.remaining != 0) r.fail(`${r.remaining} trailing bytes`);
  if (r.failed) return Result.err<Model>(malformed(`persisted ${kind} state (binary format) is malformed: ${r.error!}`));
  return Result.ok<Model>(model);
}

function binReadCounts(b: BinReader, g: GCounter): void {
  const n = b.count("replica count");
  for (let i = 0; i < n && !b.r.failed; i++) {
    const replica = b.str("replica");
    const count = b.r.varint("count");
    if (!b.r.failed) g.raise(replica, count);
  }
}

function binReadTags(b: BinReader, into: Map<string, Set<string>>): void {
  const n = b.count("element count");
  for (let i = 0; i < n && !b.r.failed; i++) {
    const element = b.str("element");
    const nTags = b.count("tag count");
    for (let k = 0; k < nTags && !b.r.failed; k++) {
      const tag = b.str("tag");
      if (!b.r.failed) OrSet.tag(into, element, tag);
    }
  }
}
