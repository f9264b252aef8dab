/**
 * The fleet's typed error: a `PluginError` with one of the reserved codes, so callers handle it like every other
 * failure of the runtime (`code`, `message`, `retryable`, `toJSON()`).
 *
 * @module
 */
import { ErrorCode, PluginError, type PluginErrorOptions } from "../errors.ts";

export class FleetError extends PluginError {
  override name = "FleetError";
}

/** A record in the fleet's namespace that does not read back as what its key says it is. */
export function corruptFleetRecord(key: readonly unknown[], why: string): FleetError {
  return new FleetError(ErrorCode.Corrupt, `fleet record ${JSON.stringify(key.map(String))} is damaged: ${why}`);
}

export function fleetError(code: number, message: string, options: PluginErrorOptions = {}): FleetError {
  return new FleetError(code, message, options);
}
