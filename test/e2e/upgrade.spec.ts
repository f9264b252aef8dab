// Upgrading every plugin v1 → v2 while the query loop runs: no failed call, no LSN lost or repeated, the
// live state (index, likes, CDC position) the same after as before, and each report saying truly what moved.
import { expect, test } from "@playwright/test";
import { counter, familyCalls, loopServes, openDemo, reloadVia, screenshot, searchRows } from "./demo-page.ts";

const FAMILIES = ["vector", "crdt", "changelog", "types"] as const;

/** What each upgrade's report must say it handed over. */
const HANDED_OVER: Record<(typeof FAMILIES)[number], RegExp> = {
  // 100,000 rows × 64 float32 ≈ 25 MiB of index, in MiB, not "KiB of CRDT state".
  vector: /^Handed over: 1 index; 2\d\.\d MiB of persisted state moved into the new version\.$/,
  // The loop's counter and the selected row's two replicas: a few dozen bytes, not "0 KiB".
  crdt: /^Handed over: 3 CRDT states; \d+ bytes of persisted state moved/,
  changelog: /^Handed over: 1 CDC stream \(resumed at its checkpoint\)\.$/,
  types: /^Nothing to hand over: this plugin keeps no live state here\./,
};

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
  // Both replicas start from the row's likes in the catalogue, and the page says so.
  await expect(page.getByTestId("likes-a")).toHaveText(/^\d+$/);
  const seed = await counter(page, "likes-a");
  await expect(page.getByTestId("likes-b")).toHaveText(String(seed));
  await expect(page.getByTestId("likes-seed")).toContainText(`Both replicas started at ${seed}: row 777's likes`);
  await page.getByTestId("like-a").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(seed + 1));
  await page.getByTestId("like-a").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(seed + 2));
  await page.getByTestId("like-b").click();
  await expect(page.getByTestId("likes-b")).toHaveText(String(seed + 1));
  await page.getByTestId("likes-merge").click();
  // The catalogue's likes count once: seed + A's 2 + B's 1.
  const merged = String(seed + 3);
  await expect(page.getByTestId("likes-a")).toHaveText(merged);
  await expect(page.getByTestId("likes-b")).toHaveText(merged);

  // An ingest of 1,000 rows keeps a line of its own among the loop's one-row batches.
  await page.getByTestId("cdc-ingest").click();
  await expect(page.getByTestId("cdc-ingest-row")).toHaveCount(1);
  await expect(page.getByTestId("cdc-ingest-row")).toContainText("your ingest #1: 1,000 rows");
  await expect(page.getByTestId("cdc-ingests")).toHaveText("1 (1 in the sink)");
  await loopServes(page, 20);

  for (const f of FAMILIES) {
    const { outcome, headline, text } = await reloadVia(page, `upgrade-${f}`);
    expect(outcome, text).toBe("ok");
    expect(headline).toMatch(/^dev\.uni\.[a-z-]+ now serves 2\.0\.0 \(was 1\.0\.0\), taken over in [\d.]+ ms\.$/);
    await expect(page.getByTestId("reload-result").locator("p").nth(1)).toHaveText(HANDED_OVER[f]);
    await expect(page.getByTestId(`serving-${f}`)).toHaveText("v2.0.0 (gen 2)");
    // The loop's client for this plugin goes on, now against v2, and none of its calls failed.
    const after = await familyCalls(page, f);
    await expect
      .poll(async () => (await familyCalls(page, f)).served, { timeout: 30_000 })
      .toBeGreaterThan(after.served + 3);
    expect((await familyCalls(page, f)).failed).toBe(0);
    if (f === "vector") await screenshot(page, "vector-upgraded");
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
  await expect(page.getByTestId("likes-b")).toHaveText(String(seed + 4));
  await page.getByTestId("likes-merge").click();
  await expect(page.getByTestId("likes-a")).toHaveText(String(seed + 4));
  await expect(page.getByTestId("likes-result")).toContainText("dev.uni.crdt v2.0.0");

  // CDC: after a flush the sink holds every published LSN, each once; v2 emitted the latest batches.
  await page.getByTestId("cdc-ingest").click();
  await expect(page.getByTestId("cdc-ingest-row")).toHaveCount(2);
  await page.getByTestId("loop-toggle").click(); // pause, so the published end stops moving
  await expect(page.getByTestId("loop-toggle")).toHaveText("Resume query loop");
  await page.getByTestId("cdc-flush").click();
  await expect.poll(async () => (await counter(page, "cdc-emitted")) === (await counter(page, "cdc-next"))).toBe(true);
  await expect(page.getByTestId("cdc-ingests")).toHaveText("2 (2 in the sink)");
  await expect(page.getByTestId("cdc-ingest-row").first()).toContainText("your ingest #2: 1,000 rows");
  await expect(page.getByTestId("cdc-ingest-row").first()).toContainText("dev.uni.changelog v2.0.0");
  expect(await counter(page, "cdc-next")).toBeGreaterThan(2000);
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
