/**
 * The copy floors a handoff is measured against, each timed per copy of
 * `bytes.length` bytes:
 *
 *   fresh   `Uint8Array.set` into freshly grown wasm memory: where a handoff
 *           must write (a new instance's memory is new), paying a page fault
 *           on the first touch of every page
 *   warm    `Uint8Array.set` into memory already touched: no page faults
 *   wasm    `memory.copy` inside one wasm instance, both regions warm: the
 *           memcpy a guest could do itself (bench/fixtures/memcpy.wat)
 *
 * Small sizes repeat the copy so one timing stays well above coarse timers
 * (Chromium's 5 us).
 *
 * @module
 */
import { MiB } from "./data.ts";
import { now } from "./stats.ts";
import type { BenchEnv } from "./types.ts";

const PAGE = 65536;

/** Copies per timing: enough that one timing moves >= 16 MiB. */
function repeats(bytes: number): number {
  return Math.max(1, Math.round((16 * MiB) / Math.max(1, bytes)));
}

/**
 * ms per `set` of `src` into a freshly grown wasm memory. At most 16 memories per timing: each one
 * reserves address space (guard regions), and browsers refuse to create hundreds at once.
 */
export function freshSetMs(src: Uint8Array): number {
  const copies = Math.min(16, repeats(src.length));
  const pages = Math.ceil(src.length / PAGE);
  const targets = Array.from({ length: copies }, () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: pages + 1 });
    memory.grow(pages);
    return new Uint8Array(memory.buffer, 0, src.length);
  });
  const t0 = now();
  for (const target of targets) target.set(src);
  return (now() - t0) / copies;
}

/** ms per `set` of `src` into `dst` (the caller has touched every page of `dst` already). */
export function warmSetMs(src: Uint8Array, dst: Uint8Array): number {
  const copies = repeats(src.length);
  const t0 = now();
  for (let c = 0; c < copies; c++) dst.set(src);
  return (now() - t0) / copies;
}

/** An instance of bench/fixtures/memcpy.wasm with room for two warm regions of `bytes`. */
export interface WasmCopy {
  /** ms per in-wasm `memory.copy` of `bytes` bytes between two warm regions. */
  copyMs(bytes: number): number;
}

/**
 * # Errors
 * Throws when the fixture is missing or its copy does not move the bytes.
 */
export async function wasmCopy(env: BenchEnv, maxBytes: number): Promise<WasmCopy> {
  const wasm = await env.fixture("memcpy");
  if (!wasm) throw new Error("bench/fixtures/memcpy.wasm is missing: run node bench/fixtures/build.mjs");
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {});
  const x = instance.exports as {
    memory: WebAssembly.Memory;
    copy: (dst: number, src: number, len: number) => void;
    fill: (dst: number, byte: number, len: number) => void;
  };
  const region = Math.ceil(maxBytes / PAGE) * PAGE;
  x.memory.grow((2 * region) / PAGE);
  x.fill(0, 0x5a, region); // touch both regions: this floor is the warm one
  x.fill(region, 0, region);
  x.copy(region, 0, maxBytes);
  const view = new Uint8Array(x.memory.buffer);
  if (view[region] !== 0x5a || view[region + maxBytes - 1] !== 0x5a) throw new Error("memcpy fixture did not copy");
  return {
    copyMs(bytes) {
      const copies = repeats(bytes);
      const t0 = now();
      for (let c = 0; c < copies; c++) x.copy(region, 0, bytes);
      return (now() - t0) / copies;
    },
  };
}
