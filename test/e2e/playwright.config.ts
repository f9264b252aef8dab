// End-to-end tests of the in-browser demo (demo/web), driven through Debian's Chromium.
// Run: npm run test:e2e   (never `npx playwright install`: it downloads a browser, which this project cannot).
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";
import { chromiumArgs, chromiumExecutable } from "../../scripts/chromium.mjs";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A free loopback port, asked of the OS. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

// Workers load this file again: the port chosen by the main process travels to them in the environment.
process.env.DEMO_E2E_PORT ??= String(await freePort());
const port = Number(process.env.DEMO_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  outputDir: fileURLToPath(new URL("../../test-results/e2e-artifacts/", import.meta.url)),
  // One page builds a 100k-row index: run the specs one after another on two cores.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    viewport: { width: 1320, height: 1000 },
    launchOptions: {
      executablePath: chromiumExecutable() ?? "/usr/bin/chromium (missing: apt-get install chromium)",
      args: [...chromiumArgs],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: `node node_modules/vite/bin/vite.js --config demo/web/vite.config.ts --host 127.0.0.1 --port ${port} --strictPort`,
    cwd: repoRoot,
    env: { DEMO_NO_HMR: "1" },
    url: `${baseURL}/plugins/index.json`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
