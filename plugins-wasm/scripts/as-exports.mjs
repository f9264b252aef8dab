// AssemblyScript cannot emit export names containing `:`, `#` or `@`, so the
// SDK exports plain names and this pass renames them in the export section
// (section 7). The table below is the single mapping, read off docs/abi.md.

const CRDT = "uni:plugin/crdt@1.0.0";
const TYPES = "uni:plugin/logical-type@1.0.0";

/** Plain name -> canonical core export name, per surface. */
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

/** Every core import a world may declare (docs/abi.md, "Imports"). */
const worldImports = {
  "crdt-plugin": ["uni:plugin/host-log@1.0.0 log", `[export]${CRDT} [resource-new]crdt-state`],
  "type-plugin": ["uni:plugin/host-log@1.0.0 log"],
  "analytics-plugin": ["uni:plugin/host-log@1.0.0 log", `[export]${CRDT} [resource-new]crdt-state`],
};
const worldSurfaces = {
  "crdt-plugin": ["base", "crdt"],
  "type-plugin": ["base", "types"],
  "analytics-plugin": ["base", "crdt", "types"],
};

/** The full plain -> canonical table for a world, cabi_post_* included. */
export function exportTable(world) {
  const table = new Map();
  for (const surface of worldSurfaces[world] ?? []) {
    for (const [plain, canonical] of Object.entries(surfaces[surface])) {
      table.set(plain, canonical);
      if (!noPost.has(plain)) table.set(`cabi_post_${plain}`, `cabi_post_${canonical}`);
    }
  }
  if (table.size === 0) throw new Error(`unknown world ${world}`);
  return table;
}

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
 * Renames exports to their canonical names, drops custom sections (nothing
 * path- or build-dependent survives), and checks that exports and imports are
 * exactly those of `world`. Throws on anything unexpected.
 */
export function canonicalizeCore(core, world) {
  const table = exportTable(world);
  const allowedImports = new Set(worldImports[world]);
  if (core[0] !== 0 || core[1] !== 0x61 || core[2] !== 0x73 || core[3] !== 0x6d) throw new Error("not a wasm module");
  const out = [...core.subarray(0, 8)];
  let pos = 8;
  const seen = new Set();
  while (pos < core.length) {
    const id = core[pos];
    const [size, bodyStart] = readU32(core, pos + 1);
    const body = core.subarray(bodyStart, bodyStart + size);
    pos = bodyStart + size;
    if (id === 0) continue;
    if (id === 2) {
      let p = 0;
      let count;
      [count, p] = readU32(body, p);
      for (let i = 0; i < count; i++) {
        let module;
        let name;
        [module, p] = readName(body, p);
        [name, p] = readName(body, p);
        if (!allowedImports.has(`${module} ${name}`))
          throw new Error(`import ${module}.${name} is not part of ${world}`);
        const kind = body[p++];
        if (kind !== 0) throw new Error(`import ${module}.${name} is not a function`);
        [, p] = readU32(body, p);
      }
    }
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
      const canonical = table.get(name);
      if (canonical === undefined) throw new Error(`export ${name} has no canonical name for ${world}`);
      seen.add(name);
      section.push(...nameBytes(canonical), kind, ...body.subarray(indexStart, p));
    }
    out.push(7, ...writeU32(section.length), ...section);
  }
  const missing = [...table.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`${world} is missing exports: ${missing.join(", ")}`);
  return new Uint8Array(out);
}
