import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const testShim = fileURLToPath(new URL("./test/support/vitest-test.ts", import.meta.url));

export default defineConfig({
  resolve: { alias: { "#test": testShim } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", "test/deno/**", "test/e2e/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
