// Upgrading every plugin v1 → v2 while the query loop runs: no failed call, no LSN lost or repeated,
// and the live state (index, likes, CDC position) is the same after as before.
import { expect, type Page, test } from "@playwright/test";
import { counter, loopServes, openDemo, reloadVia, screenshot, searchRows } from "./demo-page.ts";

const FAMILIES = ["vector", "crdt", "changelog", "types"] as const;

/** The plugin table's "loop calls (failed)" cell, e.g. "1,234 (0)". */
async function familyCalls(page: Page, family: string): Promise<{ served: number; failed: number }> {
  const text = (await page.getByTestId(`calls-${family}`).textContent()) ?? "";
  const m = /^([\d,]+) \((\d+)\)$/.exec(text);
  if (!m) throw new Error(`calls-${family} shows "${text}"`);
  return { served: Number((m[1] as string).replace(/,/g, "")), failed: Number(m[2]) };
}

test("upgrade every plugin under load with zero failed queries", async ({ page }) => {
  test.setTimeout(150_000);
  await openDemo(page);
  for (const f of FAMILIES) await expect(page.getByTestId(`serving-${f}`)).toHaveText("v1.0.0 (gen 1)");

  // State to carry across: a search result, likes on two replicas, CDC traffic.
  await page.getByTestId("search-row").fill("777");
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("served by dev.uni.vector-flat v1.0.0");
  const before = await searchRows(page);
  await page.getByTestId("search-results").locator("tbody tr").first().click();
  await expect(page.getByTestId("likes-row")).toHaveText("777");
  await expect(page.getByTestId("likes-a")).toHaveText(/^\d+$/);
  const startA = await counter(page, "likes-a");
  await page.getByTestId("like-a").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(startA + 1));
  await page.getByTestId("like-a").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(startA + 2));
  await page.getByTestId("like-b").click();
  await expect(page.getByTestId("likes-b")).toHaveText("1");
  await page.getByTestId("likes-merge").click();
  const merged = String(startA + 3);
  await expect(page.getByTestId("likes-a")).toHaveText(merged);
  await expect(page.getByTestId("likes-b")).toHaveText(merged);
  await page.getByTestId("cdc-ingest").click();
  await loopServes(page, 20);

  for (const f of FAMILIES) {
    const { outcome, text } = await reloadVia(page, `upgrade-${f}`);
    expect(outcome, text).toBe("ok");
    await expect(page.getByTestId(`serving-${f}`)).toHaveText("v2.0.0 (gen 2)");
    // The loop's client for this plugin goes on, now against v2, and none of its calls failed.
    const after = await familyCalls(page, f);
    await expect
      .poll(async () => (await familyCalls(page, f)).served, { timeout: 30_000 })
      .toBeGreaterThan(after.served + 3);
    expect((await familyCalls(page, f)).failed).toBe(0);
  }
  expect(await counter(page, "failed"), (await page.getByTestId("last-error").textContent()) ?? "").toBe(0);

  // The index answers exactly as before, now from v2.
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText("served by dev.uni.vector-flat v2.0.0");
  expect(await searchRows(page)).toEqual(before);

  // Likes survived the CRDT upgrade on both replicas, and still merge.
  await page.getByTestId("search-results").locator("tbody tr").first().click();
  await expect(page.getByTestId("likes-a")).toHaveText(merged);
  await expect(page.getByTestId("likes-b")).toHaveText(merged);
  await page.getByTestId("like-b").click();
  await page.getByTestId("likes-merge").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(startA + 4));
  await expect(page.getByTestId("likes-info")).toContainText("dev.uni.crdt v2.0.0");

  // CDC: after a flush the sink holds every published LSN, each once; v2 emitted the latest batches.
  await page.getByTestId("cdc-ingest").click();
  await page.getByTestId("loop-toggle").click(); // pause, so the published end stops moving
  await expect(page.getByTestId("loop-toggle")).toHaveText("Resume query loop");
  await page.getByTestId("cdc-flush").click();
  await expect.poll(async () => (await counter(page, "cdc-emitted")) === (await counter(page, "cdc-next"))).toBe(true);
  expect(await counter(page, "cdc-next")).toBeGreaterThan(1000);
  expect(await counter(page, "cdc-gaps")).toBe(0);
  expect(await counter(page, "cdc-dups")).toBe(0);
  expect(await counter(page, "lsn-gaps")).toBe(0);
  expect(await counter(page, "lsn-duplicates")).toBe(0);
  await expect(page.getByTestId("cdc-batches-table").locator("tbody tr").first()).toContainText(
    "dev.uni.changelog v2.0.0",
  );
  expect(await counter(page, "failed")).toBe(0);
  await screenshot(page, "upgrade-under-load");
});
