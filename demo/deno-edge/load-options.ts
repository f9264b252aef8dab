/**
 * The one place where the edge server chooses how a component is loaded.
 *
 * Uploaded components (`POST /plugins`, `POST /plugins/{id}/reload`) are code from HTTP clients: each runs in a
 * worker of its own, so a call that runs away is cut at its deadline and the plugin restored with its state,
 * while the server goes on answering. The preloaded samples from this repository stay in-thread (fastest).
 *
 * @module
 */
import type { LoadOptions, ReloadOptions } from "../../src/mod.ts";

/** Where a component came from. */
export type Origin = "upload" | "preload";

const UPLOADED: LoadOptions = { isolation: "worker" };
const PRELOADED: LoadOptions = {};

/** Options for `host.load` of a component from `origin`. */
export function loadOptions(origin: Origin): LoadOptions {
  return origin === "upload" ? UPLOADED : PRELOADED;
}

/** Options for `host.reload` to an uploaded version: the uploaded load options plus the request's own. */
export function reloadOptions(request: Pick<ReloadOptions, "force" | "dryRun">): ReloadOptions {
  return { ...loadOptions("upload"), ...request };
}
