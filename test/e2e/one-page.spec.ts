// One demo page (one 100k-row setup), driven through: search, refused incompatible upgrades, bad uploads,
// and finally a good upload that hot-reloads. In order: each test leaves the page as the next expects it.
import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import { counter, loopServes, openDemo, reloadVia, screenshot, searchRows } from "./demo-page.ts";

const root = new URL("../../", import.meta.url);
const file = (path: string) => readFileSync(new URL(path, root));

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

test("incompatible upgrades are refused at a named step and v1 keeps serving", async () => {
  test.setTimeout(120_000);
  await page.getByTestId("search-row").fill("31337");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("nearest to row 31337");
  const before = await searchRows(page);

  let tried = 0;
  for (const f of ["vector", "crdt", "changelog", "types"]) {
    if (await page.getByTestId(`incompatible-${f}`).isDisabled()) continue; // no such sample component
    tried++;
    const { outcome, text, step } = await reloadVia(page, `incompatible-${f}`);
    expect(outcome, text).toBe("refused");
    expect(step, text).toMatch(/^(check-manifest|check-compat|handoff)$/);
    expect(text).toContain(`ReloadError at step "${step}"`);
    expect(text).toContain("the old version keeps serving");
    expect(text).not.toContain("[object Object]");
    await expect(page.getByTestId(`serving-${f}`)).toHaveText("v1.0.0 (gen 1)");
    if (f === "vector") await screenshot(page, "incompatible-refused");
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

async function upload(name: string, buffer: Buffer) {
  const result = page.getByTestId("drop-result");
  await result.evaluate((el) => el.removeAttribute("data-outcome"));
  await page.getByTestId("drop-input").setInputFiles({ name, mimeType: "application/wasm", buffer });
  await expect(result).toHaveAttribute("data-outcome", /.+/, { timeout: 60_000 });
  return { outcome: await result.getAttribute("data-outcome"), text: (await result.textContent()) ?? "" };
}

test("bad uploads are rejected with a typed error and nothing changes", async () => {
  // Which version serves each plugin (the table's other cells are live counters).
  const serving = () => page.locator('[data-testid^="serving-"]').allTextContents();
  const plugins = await serving();

  const junk = await upload("notes.wasm", Buffer.from("these are not the bytes you are looking for"));
  expect(junk.outcome).toBe("rejected");
  expect(junk.text).toMatch(/LoadError \(code 0x[0-9a-f]+\): /);
  expect(junk.text).toContain("Nothing changed.");
  expect(junk.text).not.toContain("[object Object]");
  await screenshot(page, "bad-upload");

  // A core module is WebAssembly, but not a component.
  const core = await upload("core-module.wasm", file("test/fixtures/wasm/core-module.wasm"));
  expect(core.outcome).toBe("rejected");
  expect(core.text).toMatch(/\(code 0x[0-9a-f]+\): /);
  expect(core.text).not.toContain("[object Object]");

  expect(await serving()).toEqual(plugins);
  expect(plugins).toHaveLength(4);
  await loopServes(page, 10);
  expect(await counter(page, "failed")).toBe(0);
});

test("dropping a newer version of a loaded plugin hot-reloads it", async () => {
  const { outcome, text } = await upload("crdt-v2.wasm", file("plugins-wasm/dist/crdt-v2.wasm"));
  expect(outcome, text).toBe("ok");
  expect(text).toContain("now serving dev.uni.crdt v2.0.0");
  // Generations only grow; the load attempt that found the id taken used one too.
  await expect(page.getByTestId("serving-crdt")).toHaveText(/^v2\.0\.0 \(gen \d+\)$/);
  await loopServes(page, 10);
  expect(await counter(page, "failed")).toBe(0);
});
