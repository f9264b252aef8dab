/** The Chromium binary to launch, or undefined if none is installed. */
export function chromiumExecutable(): string | undefined;
/** Flags for a headless, quiet, offline Chromium that runs as root in CI. */
export const chromiumArgs: readonly string[];
