// Helpers shared by the demo specs: open the page, read its counters, save screenshots.
import { expect, type Page } from "@playwright/test";

/** Opens the demo and waits until setup is done (index built, query loop running). */
export async function openDemo(page: Page): Promise<void> {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  await page.goto("/");
  await expect(page.locator("body"), "demo setup").toHaveAttribute("data-state", /ready|error/, { timeout: 60_000 });
  const status = await page.getByTestId("status").textContent();
  expect(await page.locator("body").getAttribute("data-state"), `setup failed: ${status}`).toBe("ready");
  expect(problems, "uncaught errors on the page").toEqual([]);
}

/** A counter shown on the page, as a number ("1,234" → 1234). */
export async function counter(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  const n = Number(text.replace(/,/g, ""));
  if (!Number.isFinite(n) || text.trim() === "") throw new Error(`#${testId} shows "${text}", not a number`);
  return n;
}

/** Waits until the query loop has served at least `more` further calls. */
export async function loopServes(page: Page, more: number): Promise<void> {
  const start = await counter(page, "served");
  await expect.poll(() => counter(page, "served"), { timeout: 30_000 }).toBeGreaterThanOrEqual(start + more);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}

/** The rows of the search result table as plain cell texts. */
export async function searchRows(page: Page): Promise<string[][]> {
  return await page
    .getByTestId("search-results")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
}

/** Clicks a plugin's upgrade button and waits for the outcome box to say how it went. */
export async function reloadVia(page: Page, testId: string): Promise<{ outcome: string; text: string; step: string }> {
  const result = page.getByTestId("reload-result");
  await result.evaluate((el) => {
    el.removeAttribute("data-outcome");
    el.removeAttribute("data-step");
  });
  await page.getByTestId(testId).click();
  await expect(result).toHaveAttribute("data-outcome", /ok|refused/, { timeout: 60_000 });
  return {
    outcome: (await result.getAttribute("data-outcome")) ?? "",
    text: (await result.textContent()) ?? "",
    step: (await result.getAttribute("data-step")) ?? "",
  };
}
