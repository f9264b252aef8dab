/**
 * JSON for the wire: bigints (LSNs, Int64 ids) as numbers while they are exact, as decimal strings beyond 2^53;
 * typed arrays and Arrow vectors as plain arrays.
 *
 * @module
 */

function wire(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<unknown>);
  return value;
}

/** A deep copy of `value` that `JSON.stringify` writes faithfully (see the module doc). */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (_key, v) => wire(v)));
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(jsonSafe(body)), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** 201 Created, with the new resource's `Location`. */
export function created(location: string, body: unknown): Response {
  return json(body, 201, { location });
}

/** 204 No Content (a delete). */
export function noContent(): Response {
  return new Response(null, { status: 204 });
}
