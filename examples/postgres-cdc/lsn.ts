/**
 * Postgres WAL positions (`"16/B374D848"`) as bigints and back, in Postgres' own spelling (upper-case hex, no
 * padding), so that positions compare as numbers and print the way `pg_replication_slots` prints them.
 *
 * @module
 */

/**
 * Parses `"X/Y"` (each part up to 8 hex digits; any padding) into a bigint.
 *
 * # Errors
 * Throws a `TypeError` for anything else.
 */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new TypeError(`not a Postgres LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Formats a bigint WAL position as Postgres does. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The canonical spelling of an LSN in any padding (`"00000000/015285F0"` → `"0/15285F0"`). */
export function canonicalLsn(text: string): string {
  return formatLsn(parseLsn(text));
}
