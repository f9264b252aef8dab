// Node-only driver, Chromium workload: the durable-host crash child runs as a page (crash-page.ts) on IndexedDB
// (blobs in OPFS) for the host and for downstream, in Debian's Chromium through playwright-core. Mid-workload the
// page is reloaded — and every third round its renderer is crashed instead (CDP `Page.crash`, the browser's kill -9
// of a tab) — then the next page load restores and is held against every acknowledgement the last one reported
// (console messages, in order). The rules are those of the Node and Deno runs (test/shared/durable-ledger.ts).
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumArgs, chromiumExecutable } from "../../scripts/chromium.mjs";
import { rng } from "../shared/durable-workload.ts";
import type { Line } from "./crash-child.ts";
import { CrashChecker } from "./crash-driver.ts";

const ROUNDS = 12;
const root = fileURLToPath(new URL("../../", import.meta.url));

describe("durable host on IndexedDB (in Chromium) across page reloads and renderer crashes", () => {
  let server: Server;
  let browser: Browser;
  let bundle: string;
  let url: string;

  beforeAll(async () => {
    bundle = join(tmpdir(), `uni-host-crash-page-${process.pid}.mjs`);
    await build({
      input: fileURLToPath(new URL("./crash-page.ts", import.meta.url)),
      platform: "browser",
      logLevel: "warn",
      output: { file: bundle, format: "esm" },
    });
    const html = `<!doctype html><meta charset="utf-8"><title>crash</title><script type="module" src="/page.mjs"></script>`;
    server = createServer(async (req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const send = (status: number, type: string, body: string | Uint8Array) => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
        res.end(body);
      };
      try {
        if (path === "/") return send(200, "text/html", html);
        if (path === "/page.mjs") return send(200, "text/javascript", await readFile(bundle));
        if (path.startsWith("/dist/") && path.endsWith(".wasm"))
          return send(200, "application/wasm", await readFile(join(root, "plugins-wasm", "dist", basename(path))));
        send(404, "text/plain", "not found");
      } catch {
        send(404, "text/plain", "not found");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
    const executablePath = chromiumExecutable();
    if (!executablePath) throw new Error("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
    browser = await chromium.launch({ executablePath, args: [...chromiumArgs] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await rm(bundle, { force: true });
  });

  it(`loses no acknowledged write and delivers each CDC row once downstream across ${ROUNDS} reloads and crashes`, async () => {
    const random = rng(1515);
    const context: BrowserContext = await browser.newContext();
    const lines: Line[] = [];
    const pageErrors: string[] = [];
    const watch = (page: Page) => {
      page.on("console", (msg) => {
        const text = msg.text();
        if (text.startsWith("{")) lines.push(JSON.parse(text) as Line);
      });
      page.on("pageerror", (err) => pageErrors.push(`${err.message}\n${err.stack ?? ""}`));
    };
    /** The index of the first line at or after `from` that satisfies `done` (waiting up to `ms` for it). */
    const waitFor = async (from: number, done: (l: Line) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const at = lines.findIndex((l, i) => i >= from && done(l));
        if (at >= 0 || Date.now() > deadline) return at;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const checker = new CrashChecker();
    let page = await context.newPage();
    watch(page);
    let crashes = 0;
    let reloads = 0;
    // A load's lines run from its restore report to the next load's: the old page's last messages may still
    // arrive after the reload started, but always before the new page's first.
    let previous = -1;
    for (let round = 0; round <= ROUNDS; round++) {
      const final = round === ROUNDS;
      const params = { round, since: String(checker.ledger.downstreamTo), final };
      if (round === 0 || page.isClosed()) {
        if (page.isClosed()) {
          page = await context.newPage();
          watch(page);
        }
        await page.goto(`${url}?round=${round}&since=${params.since}&final=${final ? 1 : 0}`, { waitUntil: "commit" });
      } else {
        // The parameters of the next load ride in sessionStorage, which a reload keeps.
        await page.evaluate((p) => sessionStorage.setItem("crash", JSON.stringify(p)), params);
        await page.reload({ waitUntil: "commit" });
        reloads++;
      }
      const restored = await waitFor(previous + 1, (l) => l.t === "restored" || l.t === "error", 60_000);
      expect(restored, `round ${round} restored`).to.be.greaterThan(previous);
      if (previous >= 0 && !checker.round(round - 1, lines.slice(previous, restored), true, false)) break;
      previous = restored;
      if (final) {
        const done = await waitFor(restored, (l) => l.t === "done" || l.t === "error", 60_000);
        expect(done, "the final load finished").to.be.greaterThan(restored);
        checker.round(round, lines.slice(restored), false, false);
        break;
      }
      const ready = await waitFor(restored, (l) => l.t === "ready" || l.t === "error", 60_000);
      expect(ready, `round ${round} got ready`).to.be.greaterThan(restored);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(random() * 700)));
      if (round % 3 === 2) {
        // The renderer dies on the spot (CDP Page.crash: the browser's kill -9 of a tab); the next round opens a
        // new page in the same profile.
        const crashed = new Promise<void>((resolve) => page.once("crash", () => resolve()));
        const cdp = await context.newCDPSession(page);
        void cdp.send("Page.crash").catch(() => {}); // never answers: the session dies with the renderer
        await crashed;
        await page.close().catch(() => {});
        crashes++;
      }
    }
    const { outcome } = checker;
    const s = outcome.stats;
    console.log(
      `chromium host crash test: ${reloads} reloads and ${crashes} renderer crashes mid-workload, ` +
        `${s.acks} acknowledgements checked: ${s.crdtSteps} CRDT steps, ${s.publishes} publishes, ${s.indexes} ` +
        `index builds, ${s.reloads} plugin reloads, ${s.downstreamRows} rows downstream, ${s.redelivered} ` +
        `redeliveries recognised; restore to a running workload: median ${outcome.restoreMs.sort((a, b) => a - b)[outcome.restoreMs.length >> 1]} ms`,
    );
    expect(outcome.violations).to.deep.equal([]);
    expect(pageErrors, pageErrors.join("\n")).to.deep.equal([]);
    expect(s.publishes).to.be.greaterThan(ROUNDS);
    expect(s.reloads).to.be.greaterThan(ROUNDS / 2);
    await context.close();
  }, 240_000);
});
