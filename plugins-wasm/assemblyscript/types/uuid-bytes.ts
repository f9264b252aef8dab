// UUID text read from and written to UTF-8 bytes in place (the row loops
// allocate nothing per valid value). Same grammar as text.ts's `parseUuid`:
// 8-4-4-4-12 hex digits, any case, optionally inside `{…}`.
import { ByteWriter } from "../../sdk/assemblyscript/bytes";

function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const lower = c | 0x20; // 'A'-'F' -> 'a'-'f'; no other byte lands in 'a'-'f'
  if (lower - 0x61 < 6) return <i32>(lower - 0x61 + 10);
  return -1;
}

/** Parses the UUID in bytes [start, end) into 16 bytes at `dst`; false (dst partly written) when invalid. */
export function parseUuidAt(base: usize, start: i32, end: i32, allowBraces: bool, dst: usize): bool {
  let len = end - start;
  if (allowBraces && len == 38 && load<u8>(base + <usize>start) == 0x7b && load<u8>(base + <usize>(end - 1)) == 0x7d) {
    start++;
    len = 36;
  }
  if (len != 36) return false;
  const src = base + <usize>start;
  if (load<u8>(src + 8) != 0x2d || load<u8>(src + 13) != 0x2d || load<u8>(src + 18) != 0x2d || load<u8>(src + 23) != 0x2d) {
    return false;
  }
  for (let k = 0; k < 16; k++) {
    // byte k's two hex digits sit after the dashes that precede it (after bytes 4, 6, 8 and 10)
    const pos = <usize>(2 * k + (k >= 4 ? 1 : 0) + (k >= 6 ? 1 : 0) + (k >= 8 ? 1 : 0) + (k >= 10 ? 1 : 0));
    const hi = hexValue(load<u8>(src + pos));
    const lo = hexValue(load<u8>(src + pos + 1));
    if ((hi | lo) < 0) return false;
    store<u8>(dst + <usize>k, <u8>((hi << 4) | lo));
  }
  return true;
}

const HEX = "0123456789abcdef";

/** Appends the canonical lowercase 8-4-4-4-12 text of the 16 bytes at `src`. */
export function writeUuid(out: ByteWriter, src: usize): void {
  out.ensure(36);
  let at = out.buf.dataStart + <usize>out.length;
  for (let i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      store<u8>(at, 0x2d);
      at++;
    }
    const b = <i32>load<u8>(src + <usize>i);
    store<u8>(at, <u8>HEX.charCodeAt(b >> 4));
    store<u8>(at + 1, <u8>HEX.charCodeAt(b & 15));
    at += 2;
  }
  out.length += 36;
}
