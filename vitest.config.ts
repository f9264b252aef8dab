import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { chromiumArgs, chromiumExecutable } from "./scripts/chromium.mjs";

const root = fileURLToPath(new URL(".", import.meta.url));
const testShim = fileURLToPath(new URL("./test/support/vitest-test.ts", import.meta.url));

// No Chromium installed: the browser project still loads (so `--project node` works); launching it fails
// with a message naming the fix. scripts/test-all.mjs checks first and says the same.
const chromiumPath = chromiumExecutable() ?? "/usr/bin/chromium (missing: apt-get install chromium)";

/** Runtime-neutral cases: one source, run by Node, Chromium and Deno. */
const sharedTests = ["test/shared/**/*.test.ts"];

export default defineConfig({
  resolve: { alias: { "#test": testShim } },
  server: {
    // The page fetches committed components (plugins-wasm/dist, test/fixtures/wasm) by URL relative to
    // test/support/fixtures.ts: everything under the repo root must be servable, nothing outside it.
    fs: { strict: true, allow: [root] },
    // Cross-origin isolation (as the demo's server sends): the page gets SharedArrayBuffer, so worker-hosted
    // instances use the shared-memory channel there; test/shared/worker-*.test.ts force the message channel too.
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  },
  optimizeDeps: {
    // Pre-bundle up front: discovering a dependency mid-run makes vite reload the page and fail the file.
    include: ["chai", "apache-arrow", "@msgpack/msgpack", "fast-check", "semver", "idb"],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["test/**/*.test.ts"],
          // test/durable: the crash suite, its own project (and its own step in `npm test`): about 90 s of child
          // processes killed mid-workload would push this project past its step's timeout.
          exclude: ["test/browser/**", "test/deno/**", "test/e2e/**", "test/edge/**", "test/durable/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Node workers run built JavaScript: bundle the Node adapter's worker script first (see the file).
          globalSetup: ["test/support/global-setup.node.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "crash",
          environment: "node",
          include: ["test/durable/**/*.test.ts"],
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: [...sharedTests, "test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: [...chromiumArgs] },
            }),
            instances: [{ browser: "chromium" }],
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});
