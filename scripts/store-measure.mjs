#!/usr/bin/env node
// Store measurements (numbers for the store's README and reports; no pass/fail): durable append latency of the
// group-committed journal and of direct commits under 1/16/128 concurrent writers, and put/get of a 64 MiB blob,
// per adapter: Node (memory, fs, Deno KV via @deno/kv), Deno (memory, Deno KV), Chromium (memory, IndexedDB,
// IndexedDB+OPFS).
// Usage: node scripts/store-measure.mjs [--node] [--deno] [--chromium] [--blobs-only]   (default: all three)
// Env: STORE_MEASURE_SECONDS (per concurrency level, default 3), STORE_MEASURE_DIR (temp dir; default os.tmpdir()).
import { spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "rolldown";
import { chromiumArgs, chromiumExecutable } from "./chromium.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const pick = ["--node", "--deno", "--chromium"].filter((a) => args.includes(a));
const run = (flag) => pick.length === 0 || pick.includes(flag);
const blobsOnly = args.includes("--blobs-only");
// Under node_modules (ignored by git), so the Node bundle's external packages resolve from the repo.
const out = join(root, "node_modules", ".cache", "uni-store-measure");
await mkdir(out, { recursive: true });

async function bundle(entry, platform) {
  const file = join(out, `${platform}.mjs`);
  await build({
    input: join(root, entry),
    platform,
    external: platform === "node" ? (id) => /^(node:|@deno\/kv)/.test(id) : undefined,
    logLevel: "warn",
    output: { file, format: "esm", codeSplitting: false },
  });
  return file;
}

if (run("--node")) {
  console.log("== Node", process.version);
  const file = await bundle("scripts/store-measure/node.ts", "node");
  spawnSync(process.execPath, [file, ...(blobsOnly ? ["--blobs-only"] : [])], { stdio: "inherit", cwd: root });
}
if (run("--deno")) {
  const deno = join(root, "node_modules", ".bin", "deno");
  console.log(`== Deno ${spawnSync(deno, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]}`);
  const dir = process.env.STORE_MEASURE_DIR ?? tmpdir();
  spawnSync(
    deno,
    [
      "run",
      "--unstable-kv",
      `--allow-read=${root},${dir}`,
      `--allow-write=${dir}`,
      "--allow-env=STORE_MEASURE_SECONDS,STORE_MEASURE_DIR,TMPDIR,TMP,TEMP",
      "scripts/store-measure/deno.ts",
      ...(blobsOnly ? ["--blobs-only"] : []),
    ],
    { stdio: "inherit", cwd: root },
  );
}
if (run("--chromium")) {
  const script = await readFile(await bundle("scripts/store-measure/browser.ts", "browser"));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    res.writeHead(200, { "content-type": path === "/m.mjs" ? "text/javascript" : "text/html" });
    res.end(path === "/m.mjs" ? script : `<!doctype html><script type="module" src="/m.mjs"></script>`);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: [...chromiumArgs] });
  try {
    console.log(`== Chromium ${browser.version()}`);
    const page = await browser.newPage();
    page.on("console", (m) => console.log(m.text()));
    const seconds = process.env.STORE_MEASURE_SECONDS ?? "3";
    await page.goto(`http://127.0.0.1:${server.address().port}/?seconds=${seconds}&blobsOnly=${blobsOnly ? 1 : 0}`);
    await page.waitForFunction(() => window.storeMeasure !== undefined, null, { timeout: 600_000 });
    const result = await page.evaluate(() => window.storeMeasure);
    if (result.error) console.error(result.error);
  } finally {
    await browser.close();
    server.close();
  }
}
