#!/usr/bin/env node
// Chromium runner: bundles bench/browser/page.ts, serves it and the committed
// components on loopback, drives Debian's Chromium with playwright-core (never a
// downloaded browser), and writes bench/results/chromium.json.
// Usage: node bench/chromium.mjs [--smoke] [--head] [benchmark ids...]
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { basename, join } from "node:path";
import { chromium } from "playwright-core";
import { chromiumArgs, chromiumExecutable } from "../scripts/chromium.mjs";
import { bundle, repoRoot, snapshot } from "./build.mjs";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const only = args.filter((a) => !a.startsWith("--"));
const root = args.includes("--head") ? await snapshot("HEAD") : repoRoot;
const script = await bundle("bench/browser/page.ts", "browser", root);
const html = `<!doctype html><meta charset="utf-8"><title>uni-plugin-runtime bench</title><script type="module" src="/page.mjs"></script>`;

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  try {
    if (path === "/") return send(res, 200, "text/html", html);
    if (path === "/favicon.ico") return send(res, 204, "image/x-icon", ""); // the browser asks; nothing to show
    if (path === "/page.mjs") return send(res, 200, "text/javascript", await readFile(script));
    if (path.startsWith("/dist/") && path.endsWith(".wasm")) {
      return send(res, 200, "application/wasm", await readFile(join(root, "plugins-wasm", "dist", basename(path))));
    }
    if (path.startsWith("/fixtures/") && path.endsWith(".wasm")) {
      return send(res, 200, "application/wasm", await readFile(join(root, "bench", "fixtures", basename(path))));
    }
    send(res, 404, "text/plain", "not found");
  } catch {
    send(res, 404, "text/plain", "not found");
  }
});
function send(res, status, typeHeader, body) {
  // Cross-origin isolation: Chromium then times with 5 us resolution instead of 100 us.
  res.writeHead(status, {
    "content-type": typeHeader,
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
  });
  res.end(body);
}
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;

const executablePath = chromiumExecutable();
if (!executablePath) {
  console.error("bench: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath,
  args: [...chromiumArgs, "--js-flags=--expose-gc", "--enable-precise-memory-info"],
});
let status = 0;
try {
  const page = await browser.newPage();
  page.on("console", (msg) => console.log(msg.text()));
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  const query = new URLSearchParams();
  if (smoke) query.set("smoke", "1");
  for (const id of only) query.append("only", id);
  const loadAtStart = loadavg()[0];
  await page.goto(`http://127.0.0.1:${port}/?${query}`);
  await page.waitForFunction(() => window.benchOutcome !== undefined, null, { timeout: 30_000 });
  const { results, failures } = await page.evaluate(() => window.benchOutcome, null);
  results.runtimeVersion = `Chromium ${browser.version()}`;
  results.load = { start: loadAtStart, end: loadavg()[0] };
  results.machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    os: `${type()} ${release()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
  if (!smoke && !only.length) {
    const out = join(repoRoot, "bench", "results");
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "chromium.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log("wrote bench/results/chromium.json");
  }
  if (failures.length) {
    console.error(`${failures.length} benchmark(s) failed: ${failures.map((f) => f.id).join(", ")}`);
    status = 1;
  } else {
    console.log(
      `bench ${smoke ? "smoke " : ""}ok: ${results.figures.length} figures, ${results.skipped.length} skipped`,
    );
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(status);
