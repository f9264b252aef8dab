// Dev server for the in-browser demo (`npm start`). The page imports the host straight from src/mod.ts and
// fetches the committed components from plugins-wasm/dist through /plugins/<name>.wasm.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const distDir = fileURLToPath(new URL("../../plugins-wasm/dist/", import.meta.url));

/**
 * Serves plugins-wasm/dist under /plugins/. A middleware rather than `publicDir`: a missing component must be
 * a 404 (the page shows "not built yet"), not vite's SPA fallback answering index.html with 200.
 */
function committedComponents(): Plugin {
  return {
    name: "demo-committed-components",
    configureServer(server) {
      server.middlewares.use("/plugins/", (req, res) => {
        const name = decodeURIComponent((req.url ?? "").split("?")[0] ?? "").replace(/^\//, "");
        if (name === "index.json") {
          const files = existsSync(distDir)
            ? readdirSync(distDir)
                .filter((f) => f.endsWith(".wasm"))
                .sort()
            : [];
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(files));
          return;
        }
        if (!/^[a-z0-9-]+\.wasm$/.test(name) || !existsSync(distDir + name)) {
          res.statusCode = 404;
          res.end(`no component ${name} in plugins-wasm/dist`);
          return;
        }
        res.setHeader("content-type", "application/wasm");
        res.setHeader("cache-control", "no-store");
        res.end(readFileSync(distDir + name));
      });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [committedComponents()],
  server: {
    // src/ lives outside this root; allow the repo, nothing beyond it.
    fs: { strict: true, allow: [repoRoot] },
    // The end-to-end tests set DEMO_NO_HMR: an edit anywhere under src/ would otherwise reload the page
    // in the middle of a test.
    ...(process.env.DEMO_NO_HMR ? { hmr: false, watch: null } : {}),
    // Cross-origin isolation: the page may use SharedArrayBuffer, so worker-hosted plugins answer over the
    // shared-memory channel (microseconds) instead of messages.
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  },
  preview: {
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  },
  optimizeDeps: {
    // Exactly these are pre-bundled, up front: discovering a dependency later makes vite reload the page in
    // the middle of building the index.
    noDiscovery: true,
    include: ["apache-arrow", "@msgpack/msgpack", "semver", "uplot"],
  },
});
