// Likes across tabs: two (then three) pages of one browser context share a BroadcastChannel. Replica A is
// online — each tab's replica A merges the persisted states the others send — replica B is offline until
// Merge. Small datasets (?rows=2000): this is about the CRDT states, not the index.
import { expect, type Page, test } from "@playwright/test";
import { counter, openDemo, screenshot } from "./demo-page.ts";

const ROW = "5";

async function selectRow(page: Page): Promise<void> {
  await page.getByTestId("search-row").fill(ROW);
  await page.getByTestId("search-button").click();
  await expect(page.getByTestId("search-info")).toContainText(`nearest to row ${ROW}`);
  await page.getByTestId("search-results").locator("tbody tr").first().click();
  await expect(page.getByTestId("likes-row")).toHaveText(ROW);
  await expect(page.getByTestId("likes-a")).toHaveText(/^\d+$/);
}

test("likes made in one tab reach replica A in the other; replica B waits for Merge", async ({ context }) => {
  test.setTimeout(90_000);
  const one = await context.newPage();
  const two = await context.newPage();
  await Promise.all([openDemo(one, "?rows=2000"), openDemo(two, "?rows=2000")]);
  for (const page of [one, two])
    await expect(page.getByTestId("likes-tabs")).toContainText("1 other tab of this demo open");
  const tabIds = await Promise.all([one, two].map((p) => p.getByTestId("likes-tab-id").textContent()));
  expect(tabIds[0]).not.toBe(tabIds[1]); // distinct replica ids: likes from two tabs never overwrite each other

  await selectRow(one);
  await selectRow(two);
  const seed = await counter(one, "likes-a");
  await expect(two.getByTestId("likes-a")).toHaveText(String(seed)); // the catalogue's likes, the same in both tabs

  await one.getByTestId("like-a").click();
  await expect(one.getByTestId("likes-a")).toHaveText(String(seed + 1));
  await expect(two.getByTestId("likes-a")).toHaveText(String(seed + 1));
  await expect(two.getByTestId("likes-result")).toContainText(`Likes from tab ${tabIds[0]} arrived`);

  await two.getByTestId("like-a").click();
  await two.getByTestId("like-a").click();
  await expect(one.getByTestId("likes-a")).toHaveText(String(seed + 3));
  await expect(two.getByTestId("likes-a")).toHaveText(String(seed + 3));

  // Replica B is offline: its like stays in its tab until Merge A ⇄ B, which then reaches the other tab too.
  await two.getByTestId("like-b").click();
  await expect(two.getByTestId("likes-b")).toHaveText(String(seed + 1));
  await expect(two.getByTestId("likes-result")).toContainText("Replica B applied +1 offline");
  await expect(one.getByTestId("likes-a")).toHaveText(String(seed + 3));
  await two.getByTestId("likes-merge").click();
  await expect(two.getByTestId("likes-a")).toHaveText(String(seed + 4));
  await expect(two.getByTestId("likes-b")).toHaveText(String(seed + 4));
  await expect(one.getByTestId("likes-a")).toHaveText(String(seed + 4));
  // An unlike travels the same way.
  await one.getByTestId("unlike-a").click();
  await expect(two.getByTestId("likes-a")).toHaveText(String(seed + 3));
  await screenshot(two, "two-tabs");

  // A tab opened later asks for the row when it opens it, and gets the total so far.
  const three = await context.newPage();
  await openDemo(three, "?rows=2000");
  await selectRow(three);
  await expect(three.getByTestId("likes-a")).toHaveText(String(seed + 3));
  await expect(three.getByTestId("likes-tabs")).toContainText("2 other tabs of this demo open");
  // Closing a tab is noticed.
  await three.close();
  await expect(one.getByTestId("likes-tabs")).toContainText("1 other tab of this demo open");
});
