/**
 * The library's errors speak to TypeScript callers ("use reload() to replace it"); an HTTP client needs the route
 * to call instead. This rewrites those hints, keeping the error's class, code and everything else it says.
 *
 * @module
 */
import { type PluginError, ReloadError } from "../../src/mod.ts";

type Rewrite = [RegExp, (pluginId: string) => string];

/** Library phrasing → the same advice in routes (src/host.ts, src/reload.ts). */
const REWRITES: Rewrite[] = [
  [/use reload\(\) to replace it/, (id) => `to replace it, POST the new component to /plugins/${enc(id)}/reload`],
  [
    /drop them first or unload with \{ force: true \}/,
    (id) => `DELETE them first, or DELETE /plugins/${enc(id)}?force=true to drop them with it`,
  ],
  [
    /replace it with reload\(handle, fixedVersion, \{ force: true \}\)/,
    (id) => `replace it: POST a fixed version to /plugins/${enc(id)}/reload?force=true`,
  ],
  [/reload with \{ force: true \}/gi, (id) => `POST it to /plugins/${enc(id)}/reload?force=true`],
  [/persist first if you need it/, () => "read it first if you need it"],
];

const enc = (id: string) => encodeURIComponent(id);

/** `err` with its message in HTTP terms (the same object when nothing needed rewriting). */
export function forHttp(err: PluginError, pluginId: string | undefined): PluginError {
  const id = pluginId ?? err.pluginId;
  if (id === undefined) return err;
  let message = err.message;
  for (const [pattern, replacement] of REWRITES) message = message.replace(pattern, replacement(id));
  if (message === err.message) return err;
  const options = {
    retryable: err.retryable,
    ...(err.pluginId === undefined ? {} : { pluginId: err.pluginId }),
    cause: err,
  };
  if (err instanceof ReloadError) {
    return new ReloadError(err.step, message, {
      ...options,
      code: err.code,
      ...(err.report === undefined ? {} : { report: err.report }),
    });
  }
  const copy = Object.create(Object.getPrototypeOf(err)) as PluginError;
  Object.assign(copy, err);
  Object.defineProperty(copy, "message", { value: message, enumerable: false, writable: true, configurable: true });
  return copy;
}
