// One demo page (one 100k-row setup), driven through: search, the latency chart, refused incompatible
// upgrades, bad uploads, a dropped plugin with a new id used in panel 7, a drop that hot-reloads, a downgrade
// by drop that waits for confirmation, and stalls as the chart records them. In order: each test leaves the
// page as the next expects it.
import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import type { LoadLoop } from "../../demo/web/src/load-loop.ts";
import type { PluginHost } from "../../src/mod.ts";
import {
  answerDrop,
  chartDrawing,
  counter,
  legendRow,
  loopServes,
  openDemo,
  parseMs,
  reloadVia,
  screenshot,
  searchRows,
  upload,
} from "./demo-page.ts";

const root = new URL("../../", import.meta.url);
const file = (path: string) => readFileSync(new URL(path, root));
const FAMILIES = ["vector", "crdt", "changelog", "types"] as const;

test.describe.configure({ mode: "serial" });
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openDemo(page);
});
test.afterAll(async () => {
  await page.close();
});

test("a row's nearest neighbour is itself, and its neighbours share its category", async () => {
  await page.getByTestId("search-row").fill("1234");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("nearest to row 1234");
  const info = (await page.getByTestId("search-info").textContent()) ?? "";
  const category = /category "([a-z]+)"/.exec(info)?.[1];
  expect(category, info).toBeTruthy();

  const rows = await searchRows(page);
  expect(rows).toHaveLength(10);
  // Columns: rank, id, category, location, distance.
  expect(rows[0]?.[1]).toBe("1234");
  expect(Number(rows[0]?.[4])).toBe(0);
  const distances = rows.map((r) => Number(r[4]));
  expect([...distances].sort((a, b) => a - b)).toEqual(distances);
  expect(distances.slice(1).every((d) => d > 0)).toBe(true);
  // Embeddings cluster by category (centres ~11 apart, noise ~4): the 10 nearest are all of the row's category.
  expect(rows.map((r) => r[2])).toEqual(Array(10).fill(category));
  // Locations come back from the geo.point plugin's display function as WKT points.
  for (const r of rows) expect(r[3]).toMatch(/^POINT\(-?\d+(\.\d+)? -?\d+(\.\d+)?\)$/);
  // The map draws the hits on its own layer once every location is parsed.
  await expect(page.getByTestId("map-info")).toContainText("100,000 of 100,000 points", { timeout: 60_000 });
  await expect(page.getByTestId("map-hits")).toHaveAttribute("data-drawn", "10");
  await screenshot(page, "search-row");
});

test("searching a category's centre returns rows of that category", async () => {
  await page.getByTestId("search-category").selectOption("music");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText('category "music"');
  const rows = await searchRows(page);
  expect(rows).toHaveLength(10);
  expect(rows.map((r) => r[2])).toEqual(Array(10).fill("music"));
});

test("an out-of-range row id is explained, not searched", async () => {
  await page.getByTestId("search-row").fill("100000");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toHaveText("Row id must be a whole number from 0 to 99999.");
});

test("the latency chart: a series per plugin, p50/p99 in the legend without hovering, a label at every decade", async () => {
  await loopServes(page, 50);
  for (const family of FAMILIES) {
    await expect(page.getByTestId(`legend-${family}-p99`)).toHaveText(/^[\d.]+ (ms|s)$/);
    const row = await legendRow(page, family);
    expect(Number(row.calls?.replace(/,/g, ""))).toBeGreaterThan(0);
    expect(parseMs(row.p50 as string)).toBeLessThanOrEqual(parseMs(row.p99 as string));
    expect(parseMs(row.p99 as string)).toBeLessThanOrEqual(parseMs(row.max as string));
    expect(row.every).toMatch(/^\d+ ms$/);
  }
  const { yTicks } = await chartDrawing(page);
  // "0.1 ms", "1 ms", "10 ms", "100 ms", … : one label per decade, none skipped.
  const values = yTicks.map(parseMs);
  expect(values[0]).toBe(0.1);
  expect(values.length).toBeGreaterThanOrEqual(4);
  for (let i = 1; i < values.length; i++) expect((values[i] as number) / (values[i - 1] as number)).toBeCloseTo(10, 6);
  await expect(page.getByTestId("latency-caption")).toContainText("latency counts from that moment");
});

test("incompatible upgrades are refused in one plain sentence, with the typed error behind a disclosure", async () => {
  test.setTimeout(120_000);
  await page.getByTestId("search-row").fill("31337");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("nearest to row 31337");
  const before = await searchRows(page);

  let tried = 0;
  for (const f of FAMILIES) {
    if (await page.getByTestId(`incompatible-${f}`).isDisabled()) continue; // no such sample component
    tried++;
    const { outcome, headline, text, step } = await reloadVia(page, `incompatible-${f}`);
    expect(outcome, text).toBe("refused");
    expect(step, text).toMatch(/^(check-manifest|check-compat|handoff)$/);
    expect(headline).toMatch(/^Not upgraded: .+\. dev\.uni\.[a-z-]+ 1\.0\.0 keeps serving; nothing changed\.$/);
    expect(text.match(/keeps serving/g), text).toHaveLength(1);
    expect(headline).not.toMatch(/0x|ReloadError|\[object Object\]/);
    // The details: error class, code, step and the host's reason, one click away.
    const details = page.getByTestId("reload-result-details");
    await expect(details.locator("dl")).toBeHidden();
    await details.locator("summary").click();
    await expect(details.locator("dl")).toBeVisible();
    await expect(details).toContainText("ReloadError");
    await expect(details).toContainText(/code\s*0x4a \(Reload\)/);
    await expect(details).toContainText(`reload step${step}`);
    await expect(page.getByTestId(`serving-${f}`)).toHaveText("v1.0.0 (gen 1)");
    if (f === "vector") {
      expect(headline).toContain("cannot read the live index in the format 1.0.0 stored it");
      await screenshot(page, "incompatible-refused");
    }
    await loopServes(page, 10);
  }
  expect(tried).toBeGreaterThanOrEqual(2);

  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("served by dev.uni.vector-flat v1.0.0");
  expect(await searchRows(page)).toEqual(before);
  expect(await counter(page, "failed"), (await page.getByTestId("last-error").textContent()) ?? "").toBe(0);
  expect(await counter(page, "lsn-gaps")).toBe(0);
  expect(await counter(page, "lsn-duplicates")).toBe(0);
});

test("reload labels on the chart never overlap", async () => {
  const { labels } = await chartDrawing(page);
  expect(labels.length).toBeGreaterThanOrEqual(2);
  for (const a of labels) {
    for (const b of labels) {
      if (a === b || a.lane !== b.lane) continue;
      expect(a.x1 <= b.x0 || b.x1 <= a.x0, `${a.text} overlaps ${b.text}`).toBe(true);
    }
  }
  for (const l of labels) expect(l.text).toMatch(/✗ refused|✓/);
});

test("bad uploads are refused in plain words, without quoting bytes, and nothing changes", async () => {
  // Which version serves each plugin (the table's other cells are live counters).
  const serving = () => page.locator('[data-testid^="serving-"]').allTextContents();
  const plugins = await serving();

  const junk = await upload(page, "notes.wasm", Buffer.from("these are not the bytes you are looking for"));
  expect(junk.outcome).toBe("rejected");
  expect(junk.headline).toBe(
    "Not loaded: notes.wasm is not a WebAssembly file, so it cannot be a plugin. Nothing changed.",
  );
  expect(junk.text).toMatch(/LoadError.*0x40 \(InvalidComponent\)/);
  expect(junk.text).not.toContain("[object Object]");
  await screenshot(page, "bad-upload");

  // A core module is WebAssembly, but not a component.
  const core = await upload(page, "core-module.wasm", file("test/fixtures/wasm/core-module.wasm"));
  expect(core.outcome).toBe("rejected");
  expect(core.headline).toContain("core-module.wasm is a plain WebAssembly module, not a component");
  for (const { headline } of [junk, core]) expect(headline).not.toMatch(/0x|\\0asm|preamble|magic/i);

  // A valid plugin whose kinds another plugin already provides: refused, naming what collides with whom.
  const clash = await upload(page, "analytics-v1.wasm", file("plugins-wasm/dist/analytics-v1.wasm"));
  expect(clash.outcome).toBe("rejected");
  expect(clash.headline).toBe(
    "Not loaded: analytics-v1.wasm provides the CRDT kinds pn-counter and g-counter, which dev.uni.crdt already " +
      "provides; and the logical type geo.point, which dev.uni.types already provides. Nothing changed.",
  );
  expect(clash.text).toContain("0x45 (DuplicateKey)");

  expect(await serving()).toEqual(plugins);
  expect(plugins).toHaveLength(4);
  await loopServes(page, 10);
  expect(await counter(page, "failed")).toBe(0);
});

test("a dropped plugin with a new id joins the plugin table and can be used in panel 7", async () => {
  const loaded = await upload(page, "max-register-v1.wasm", file("plugins-wasm/dist/max-register-v1.wasm"));
  expect(loaded.outcome, loaded.text).toBe("loaded");
  expect(loaded.headline).toContain("Loaded dev.uni.max-register 1.0.0");
  const row = page.getByTestId("plugin-dev.uni.max-register");
  await expect(row).toContainText("CRDT max-register");
  await expect(page.getByTestId("serving-dev.uni.max-register")).toHaveText("v1.0.0 (gen 1)");

  // Panel 7 picked the new kind.
  await expect(page.getByTestId("crdt-kind")).toHaveValue("max-register");
  await expect(page.getByTestId("crdt-op")).toHaveValue("42");
  const apply = async (side: "a" | "b", op: string) => {
    await page.getByTestId("crdt-op").fill(op);
    await page.getByTestId(`crdt-apply-${side}`).click();
  };
  await apply("a", "5");
  await expect(page.getByTestId("crdt-a")).toHaveText("5");
  await apply("b", "9");
  await expect(page.getByTestId("crdt-b")).toHaveText("9");
  await apply("a", "3");
  await expect(page.getByTestId("crdt-result")).toContainText("Replica A applied 3 through dev.uni.max-register");
  await expect(page.getByTestId("crdt-a")).toHaveText("5");
  await page.getByTestId("crdt-merge").click();
  await expect(page.getByTestId("crdt-a")).toHaveText("9");
  await expect(page.getByTestId("crdt-b")).toHaveText("9");
  // An op the plugin refuses changes nothing, and says so.
  await apply("a", '"ten"');
  await expect(page.getByTestId("crdt-result")).toHaveAttribute("data-outcome", "refused");
  await expect(page.getByTestId("crdt-result-headline")).toContainText(
    "the plugin refused it. The replica is unchanged.",
  );
  await expect(page.getByTestId("crdt-result-details")).toContainText("0x101");
  await expect(page.getByTestId("crdt-a")).toHaveText("9");
  await screenshot(page, "max-register-dropped");
});

test("dropping a newer version of a loaded plugin hot-reloads it", async () => {
  const { outcome, headline, text } = await upload(page, "crdt-v2.wasm", file("plugins-wasm/dist/crdt-v2.wasm"));
  expect(outcome, text).toBe("ok");
  expect(headline).toMatch(/^dev\.uni\.crdt now serves 2\.0\.0 \(was 1\.0\.0\)/);
  await expect(page.getByTestId("serving-crdt")).toHaveText("v2.0.0 (gen 2)");
  await loopServes(page, 10);
  expect(await counter(page, "failed")).toBe(0);
});

test("a downgrade by drop waits for confirmation; cancelled it changes nothing, confirmed it reloads", async () => {
  const up = await upload(page, "types-v2.wasm", file("plugins-wasm/dist/types-v2.wasm"));
  expect(up.outcome, up.text).toBe("ok");
  await expect(page.getByTestId("serving-types")).toHaveText("v2.0.0 (gen 2)");

  const asked = await upload(page, "types-v1.wasm", file("plugins-wasm/dist/types-v1.wasm"));
  expect(asked.outcome).toBe("confirm-downgrade");
  expect(asked.headline).toContain("types-v1.wasm is dev.uni.types 1.0.0, older than the 2.0.0 serving now");
  await screenshot(page, "downgrade-asked");
  const kept = await answerDrop(page, "downgrade-cancel");
  expect(kept.outcome).toBe("kept");
  expect(kept.headline).toBe("Not downgraded: dev.uni.types 2.0.0 keeps serving; nothing changed.");
  await expect(page.getByTestId("serving-types")).toHaveText("v2.0.0 (gen 2)");

  expect((await upload(page, "types-v1.wasm", file("plugins-wasm/dist/types-v1.wasm"))).outcome).toBe(
    "confirm-downgrade",
  );
  const down = await answerDrop(page, "downgrade-confirm");
  expect(down.outcome, down.text).toBe("ok");
  expect(down.headline).toMatch(/^dev\.uni\.types now serves 1\.0\.0 \(was 2\.0\.0\)/);
  await expect(page.getByTestId("serving-types")).toHaveText("v1.0.0 (gen 3)");
  await loopServes(page, 10);
  expect(await counter(page, "failed")).toBe(0);
});

interface Sampled {
  due: number;
  ms: number;
}

/** What the page exposes as `window.demo` (demo/web/src/app.ts), as far as these tests use it. */
type WithDemo = typeof globalThis & { demo: { host: PluginHost; loop: LoadLoop } };

/** The loop's samples of one plugin due in [from, to] (loop seconds). */
function samplesIn(page: Page, family: string, from: number, to: number): Promise<Sampled[]> {
  return page.evaluate(
    ([f, a, b]) => {
      const { demo } = globalThis as WithDemo;
      return (demo.loop.series.get(f as string)?.samples ?? [])
        .filter((s) => s.due >= (a as number) && s.due <= (b as number))
        .map((s) => ({ due: s.due, ms: s.ms }));
    },
    [family, from, to] as const,
  );
}

/** Waits until each plugin's client has finished a call due at or after `t`: everything due before is recorded. */
async function caughtUp(page: Page, families: readonly string[], t: number): Promise<void> {
  for (const family of families) {
    await expect
      .poll(async () => (await samplesIn(page, family, t, Number.POSITIVE_INFINITY)).length, { timeout: 30_000 })
      .toBeGreaterThan(0);
  }
}

test("a stall shows as the stall it was: every call due during it is there, late by the rest of it", async () => {
  // 1. The vector plugin's gate stays closed for 400 ms during a real reload (v1 → v2), the page's thread free.
  const gate = await page.evaluate(async () => {
    const { demo } = globalThis as WithDemo;
    const handle = demo.host.provider("index", "vector.flat");
    if (!handle) throw new Error("no vector.flat provider");
    const bytes = new Uint8Array(await (await fetch("/plugins/vector-flat-v2.wasm")).arrayBuffer());
    const mark = demo.loop.beginReload("vector", "vector v1 → v2 (held 400 ms)");
    let closed = 0;
    let opening = 0;
    const report = await demo.host.reload(handle, bytes, {
      beforeStep: async (step) => {
        if (step !== "handoff") return; // quiesce has closed the gate
        closed = demo.loop.now();
        await new Promise((resolve) => setTimeout(resolve, 400));
        opening = demo.loop.now();
      },
    });
    demo.loop.endReload(mark, "ok");
    return { ok: report.ok, closed, opening, opened: mark.to as number };
  });
  expect(gate.ok).toBe(true);
  await caughtUp(page, ["vector", "crdt"], gate.opened);
  const vector = await samplesIn(page, "vector", gate.closed, gate.opening);
  // 50 ms between arrivals: 400 ms holds ~8 of them, every one recorded, none skipped.
  expect(vector.length).toBeGreaterThanOrEqual(6);
  for (let i = 1; i < vector.length; i++) {
    expect((vector[i] as Sampled).due - (vector[i - 1] as Sampled).due).toBeLessThan(0.075);
  }
  // Each finished only after the gate opened: its latency holds the rest of the stall.
  for (const s of vector) expect(s.due + s.ms / 1000).toBeGreaterThanOrEqual(gate.opening);
  // Meanwhile the other plugins went on being served (the thread was free): calls due in the stall finished in it.
  const crdt = await samplesIn(page, "crdt", gate.closed, gate.opening);
  expect(crdt.some((s) => s.due + s.ms / 1000 < gate.opening)).toBe(true);

  // 2. The page's thread blocked for 300 ms: every plugin's calls due meanwhile are late, none is missing.
  const block = await page.evaluate(() => {
    const { demo } = globalThis as WithDemo;
    const from = demo.loop.now();
    const end = performance.now() + 300;
    while (performance.now() < end) {
      // the page is stuck, as in a long synchronous call
    }
    return { from, to: demo.loop.now() };
  });
  await caughtUp(page, ["vector", "crdt", "types"], block.to);
  for (const family of ["vector", "crdt", "types"]) {
    const due = await samplesIn(page, family, block.from, block.to - 0.06);
    expect(due.length, family).toBeGreaterThanOrEqual(3);
    for (const s of due) expect(s.due + s.ms / 1000, family).toBeGreaterThanOrEqual(block.to);
    expect(Math.max(...due.map((s) => s.ms)), family).toBeGreaterThanOrEqual(200);
  }
  await expect(page.getByTestId("serving-vector")).toHaveText(/^v2\.0\.0/);
  expect(await counter(page, "failed")).toBe(0);
  await page.getByTestId("latency-chart").scrollIntoViewIfNeeded();
  await page.locator("#upgrades").screenshot({ path: "test-results/screenshots/stalls.png" });
});
