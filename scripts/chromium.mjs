// Where Debian's Chromium lives. Playwright's own browser download (`npx playwright install`) needs a network
// this project does not have, so the browser runner always drives a system Chromium. CHROMIUM_PATH overrides.
import { existsSync } from "node:fs";

const candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium binary to launch, or undefined if none is installed. */
export function chromiumExecutable() {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : undefined;
  return candidates.find((path) => existsSync(path));
}

/** Flags for a headless, quiet, offline Chromium that runs as root in CI. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox", // CI runs as root, where the sandbox refuses to start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
