// AssemblyScript cannot emit export names containing `:`, `#` or `@`, so the SDK exports plain names and this
// pass renames them in the export section (section 7). The table below is the single mapping, read off
// docs/abi.md. Whether the result is the right world is preflight.mjs's job, with messages that name the fix.

const CRDT = "uni:plugin/crdt@1.0.0";
const TYPES = "uni:plugin/logical-type@1.0.0";

/** Plain name -> canonical core export name, per SDK export module. */
const surfaces = {
  base: {
    memory: "memory",
    cabi_realloc: "cabi_realloc",
    manifest: "manifest",
  },
  crdt: {
    crdt_kinds: `${CRDT}#kinds`,
    crdt_empty: `${CRDT}#empty`,
    crdt_from_persisted: `${CRDT}#from-persisted`,
    crdt_state_apply: `${CRDT}#[method]crdt-state.apply`,
    crdt_state_merge: `${CRDT}#[method]crdt-state.merge`,
    crdt_state_value: `${CRDT}#[method]crdt-state.value`,
    crdt_state_persist: `${CRDT}#[method]crdt-state.persist`,
    crdt_state_dtor: `${CRDT}#[dtor]crdt-state`,
  },
  types: {
    types_names: `${TYPES}#names`,
    types_arrow_type: `${TYPES}#arrow-type`,
    types_encoding_version: `${TYPES}#encoding-version`,
    types_from_literal: `${TYPES}#from-literal`,
    types_to_display: `${TYPES}#to-display`,
    types_cast_to: `${TYPES}#cast-to`,
    types_cast_from: `${TYPES}#cast-from`,
  },
};

// Exports that return nothing through a return area, hence have no cabi_post_*.
const noPost = new Set(["memory", "cabi_realloc", "crdt_state_dtor"]);

/** Every plain name the SDK exports -> its canonical name, cabi_post_* included. */
export const exportTable = (() => {
  const table = new Map();
  for (const names of Object.values(surfaces)) {
    for (const [plain, canonical] of Object.entries(names)) {
      table.set(plain, canonical);
      if (!noPost.has(plain)) table.set(`cabi_post_${plain}`, `cabi_post_${canonical}`);
    }
  }
  return table;
})();

function readU32(bytes, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos];
    shift += 7;
  }
}

function writeU32(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value >>>= 7;
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function readName(bytes, pos) {
  const [len, at] = readU32(bytes, pos);
  return [fromUtf8.decode(bytes.subarray(at, at + len)), at + len];
}

function nameBytes(name) {
  const b = utf8.encode(name);
  return [...writeU32(b.length), ...b];
}

/**
 * Renames the SDK's plain export names to their canonical names and drops custom sections (nothing path- or
 * build-dependent survives). Names the table does not know are left as they are, for preflight to report.
 * @param {Uint8Array} core an AssemblyScript core module
 * @returns {Uint8Array}
 */
export function canonicalizeCore(core) {
  if (core[0] !== 0 || core[1] !== 0x61 || core[2] !== 0x73 || core[3] !== 0x6d) throw new Error("not a wasm module");
  const out = [...core.subarray(0, 8)];
  let pos = 8;
  while (pos < core.length) {
    const id = core[pos];
    const [size, bodyStart] = readU32(core, pos + 1);
    const body = core.subarray(bodyStart, bodyStart + size);
    pos = bodyStart + size;
    if (id === 0) continue;
    if (id !== 7) {
      out.push(id, ...writeU32(size), ...body);
      continue;
    }
    let p = 0;
    let count;
    [count, p] = readU32(body, p);
    const section = [...writeU32(count)];
    for (let i = 0; i < count; i++) {
      let name;
      [name, p] = readName(body, p);
      const kind = body[p++];
      const indexStart = p;
      [, p] = readU32(body, p);
      section.push(...nameBytes(exportTable.get(name) ?? name), kind, ...body.subarray(indexStart, p));
    }
    out.push(7, ...writeU32(section.length), ...section);
  }
  return new Uint8Array(out);
}
