/**
 * Finds the main core module inside a component binary, for the cold-load
 * baseline (`WebAssembly.compile` of the same code the host runs). A small
 * walk over the component's top-level sections, kept in the bench so it does
 * not lean on src/'s internal parser.
 *
 * @module
 */

/** Section id of an embedded core module in the component binary format. */
const CORE_MODULE_SECTION = 1;

function leb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++] as number;
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [value, i];
    shift += 7;
  }
}

/**
 * The core module exporting `memory`, `cabi_realloc` and `manifest`: the one the host instantiates.
 * # Errors
 * Throws when `component` is not a component binary or holds no such module.
 */
export function mainCoreModule(component: Uint8Array): Uint8Array {
  if (component[0] !== 0 || component[1] !== 0x61 || component[2] !== 0x73 || component[3] !== 0x6d)
    throw new Error("not a wasm binary");
  let at = 8;
  while (at < component.length) {
    const id = component[at] as number;
    const [size, start] = leb(component, at + 1);
    if (id === CORE_MODULE_SECTION) {
      const core = component.subarray(start, start + size);
      const names = new Set(
        WebAssembly.Module.exports(new WebAssembly.Module(core as Uint8Array<ArrayBuffer>)).map((e) => e.name),
      );
      if (names.has("memory") && names.has("cabi_realloc") && names.has("manifest")) return core;
    }
    at = start + size;
  }
  throw new Error("no core module exporting memory, cabi_realloc and manifest");
}
