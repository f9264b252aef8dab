// Helpers of the store suites (not tests).
import { expect } from "#test";
import { ErrorCode } from "../../src/errors.ts";
import { StoreError } from "../../src/store/mod.ts";
import type { Entry, Key, StateStore } from "../../src/store/mod.ts";

export const bytes = (...b: number[]) => Uint8Array.from(b);
export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Deterministic pseudo-random bytes (xorshift), so blob contents differ per seed without Math.random. */
export function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Awaits `promise` and checks that it rejected with a StoreError of `code` (by name in ErrorCode). */
export async function rejectsWith(promise: Promise<unknown>, code: keyof typeof ErrorCode): Promise<StoreError> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error, `expected a rejection with ${code}`).to.be.instanceOf(StoreError);
  const e = error as StoreError;
  expect(e.code, `${e.message} (code 0x${e.code.toString(16)})`).to.equal(ErrorCode[code]);
  return e;
}

export async function collect(iter: AsyncIterable<Entry>): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of iter) out.push(e);
  return out;
}

export async function keysOf(store: StateStore, selector: Parameters<StateStore["list"]>[0], options = {}) {
  return (await collect(store.list(selector, options))).map((e) => e.key);
}

export async function set(store: StateStore, key: Key, value: Uint8Array, blobs?: string[]) {
  const res = await store.commit({ mutations: [{ type: "set", key, value, ...(blobs ? { blobs } : {}) }] });
  if (!res.ok) throw new Error("unconditional set refused");
  return res.versionstamp;
}
