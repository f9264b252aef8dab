// The canonical ABI as the core module sees it (docs/abi.md): the allocator
// the host passes arguments through, the shared return area, and the list of
// buffers `cabi_post_*` frees once the host has copied a result out.
import { FnError } from "./error";

// One return area serves every export: the host copies the result out and
// calls cabi_post_* before it makes the next call. 24 bytes, align 8, is the
// largest layout in docs/abi.md (result<u64, fn-error>).
const RETURN_AREA: usize = memory.data(24, 8);

// Unmanaged buffers handed to the host with the current result.
const pendingFrees: usize[] = [];

/** `cabi_realloc(old_ptr, old_size, align, new_size)`: unmanaged memory, never touched by the GC. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) {
    if (oldPtr != 0 && oldSize != 0) heap.free(oldPtr);
    return align;
  }
  // heap blocks are 16-byte aligned, enough for every canonical ABI type.
  if (oldPtr == 0 || oldSize == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

/** `cabi_post_*`: frees the buffers the last result lent to the host. */
export function postReturn(_area: usize): void {
  for (let i = 0; i < pendingFrees.length; i++) heap.free(unchecked(pendingFrees[i]));
  pendingFrees.length = 0;
}

/** Takes ownership of an argument `(ptr, len)`: copies it into managed memory and frees it. */
export function takeBytes(ptr: usize, len: usize): Uint8Array {
  const out = new Uint8Array(<i32>len);
  if (len > 0) {
    memory.copy(out.dataStart, ptr, len);
    heap.free(ptr);
  }
  return out;
}

/** Takes ownership of a string argument (the canonical ABI guarantees valid UTF-8). */
export function takeString(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, len);
  heap.free(ptr);
  return s;
}

/** Copies bytes into a fresh unmanaged buffer freed by the next cabi_post_*. */
function lendBytes(bytes: Uint8Array): usize {
  const len = <usize>bytes.length;
  if (len == 0) return 1; // any aligned non-null pointer is a valid empty list
  const ptr = heap.alloc(len);
  memory.copy(ptr, bytes.dataStart, len);
  pendingFrees.push(ptr);
  return ptr;
}

function lendString(s: string): usize {
  return lendBytes(Uint8Array.wrap(String.UTF8.encode(s)));
}

function utf8Length(s: string): usize {
  return <usize>String.UTF8.byteLength(s);
}

function clearArea(): void {
  memory.fill(RETURN_AREA, 0, 24);
}

function writeError(at: usize, error: FnError): void {
  store<u32>(at, error.code);
  store<u32>(at + 4, <u32>lendString(error.message));
  store<u32>(at + 8, <u32>utf8Length(error.message));
  store<u8>(at + 12, error.retryable ? 1 : 0);
}

/** `list<u8>` or `string` result: area `[ptr@0, len@4]`. */
export function returnBytes(bytes: Uint8Array): usize {
  clearArea();
  store<u32>(RETURN_AREA, <u32>lendBytes(bytes));
  store<u32>(RETURN_AREA + 4, <u32>bytes.length);
  return RETURN_AREA;
}

export function returnString(s: string): usize {
  return returnBytes(Uint8Array.wrap(String.UTF8.encode(s)));
}

/** `list<string>`: area `[ptr, len]` pointing at `len` `[ptr, len]` pairs. */
export function returnStringList(items: string[]): usize {
  clearArea();
  const n = items.length;
  const table = n == 0 ? <usize>4 : heap.alloc(<usize>n * 8);
  if (n > 0) pendingFrees.push(table);
  for (let i = 0; i < n; i++) {
    const s = unchecked(items[i]);
    store<u32>(table + <usize>i * 8, <u32>lendString(s));
    store<u32>(table + <usize>i * 8 + 4, <u32>utf8Length(s));
  }
  store<u32>(RETURN_AREA, <u32>table);
  store<u32>(RETURN_AREA + 4, <u32>n);
  return RETURN_AREA;
}

/** `result<list<u8>, fn-error>` / `result<string, fn-error>` (20 bytes). */
export function returnBytesResult(bytes: Uint8Array | null, error: FnError | null): usize {
  clearArea();
  if (error != null) {
    store<u8>(RETURN_AREA, 1);
    writeError(RETURN_AREA + 4, error);
  } else {
    const b = bytes != null ? bytes : new Uint8Array(0);
    store<u32>(RETURN_AREA + 4, <u32>lendBytes(b));
    store<u32>(RETURN_AREA + 8, <u32>b.length);
  }
  return RETURN_AREA;
}

export function returnStringResult(s: string | null, error: FnError | null): usize {
  return returnBytesResult(s != null ? Uint8Array.wrap(String.UTF8.encode(s)) : null, error);
}

/** `result<_, fn-error>`. */
export function returnUnitResult(error: FnError | null): usize {
  clearArea();
  if (error != null) {
    store<u8>(RETURN_AREA, 1);
    writeError(RETURN_AREA + 4, error);
  }
  return RETURN_AREA;
}

/** `result<own<R>, fn-error>`: `handle` comes from the `[resource-new]` import. */
export function returnHandleResult(handle: i32, error: FnError | null): usize {
  clearArea();
  if (error != null) {
    store<u8>(RETURN_AREA, 1);
    writeError(RETURN_AREA + 4, error);
  } else {
    store<i32>(RETURN_AREA + 4, handle);
  }
  return RETURN_AREA;
}
