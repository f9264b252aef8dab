// Helpers shared by the demo specs: open the page, read its counters, drive its panels, save screenshots.
// Every wait here waits for a condition on the page, never for a fixed time.
import { expect, type Page } from "@playwright/test";

/** Opens the demo (optionally with a query string, e.g. "?rows=2000") and waits until setup is done. */
export async function openDemo(page: Page, query = ""): Promise<void> {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  await page.goto(`/${query}`);
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

/** The plugin table's "loop calls (failed)" cell of a family, e.g. "1,234 (0)", polled until it reads so. */
export async function familyCalls(page: Page, family: string): Promise<{ served: number; failed: number }> {
  const cell = page.getByTestId(`calls-${family}`);
  await expect(cell).toHaveText(/^[\d,]+ \(\d+\)$/);
  const m = /^([\d,]+) \((\d+)\)$/.exec((await cell.textContent()) ?? "") as RegExpExecArray;
  return { served: Number((m[1] as string).replace(/,/g, "")), failed: Number(m[2]) };
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

export interface Shown {
  outcome: string;
  headline: string;
  /** Everything in the box, the closed "Technical details" included. */
  text: string;
  step: string;
}

/** What a result box shows now. */
export async function shown(page: Page, testId: string): Promise<Shown> {
  const box = page.getByTestId(testId);
  return {
    outcome: (await box.getAttribute("data-outcome")) ?? "",
    headline: (await page.getByTestId(`${testId}-headline`).textContent()) ?? "",
    text: (await box.textContent()) ?? "",
    step: (await box.getAttribute("data-step")) ?? "",
  };
}

/** Clears a result box's outcome, runs `act`, and waits for the box to show a new one. */
async function nextOutcome(page: Page, testId: string, act: () => Promise<void>): Promise<Shown> {
  const box = page.getByTestId(testId);
  await box.evaluate((el) => {
    el.removeAttribute("data-outcome");
    el.removeAttribute("data-step");
  });
  await act();
  await expect(box).toHaveAttribute("data-outcome", /.+/, { timeout: 60_000 });
  return await shown(page, testId);
}

/** Clicks a plugin's upgrade button and waits for the outcome box to say how it went. */
export function reloadVia(page: Page, testId: string): Promise<Shown> {
  return nextOutcome(page, "reload-result", () => page.getByTestId(testId).click());
}

/** Drops a file on panel 6 (through its file input) and waits for the outcome. */
export function upload(page: Page, name: string, buffer: Buffer): Promise<Shown> {
  return nextOutcome(page, "drop-result", () =>
    page.getByTestId("drop-input").setInputFiles({ name, mimeType: "application/wasm", buffer }),
  );
}

/** Clicks a button inside the drop result box (downgrade confirm / cancel) and waits for the next outcome. */
export function answerDrop(page: Page, testId: string): Promise<Shown> {
  return nextOutcome(page, "drop-result", () => page.getByTestId(testId).click());
}

/** What the latency chart drew: its y axis labels and its reload labels' boxes (CSS px). */
export async function chartDrawing(
  page: Page,
): Promise<{ yTicks: string[]; labels: { text: string; x0: number; x1: number; lane: number }[] }> {
  const chart = page.getByTestId("latency-chart");
  return {
    yTicks: JSON.parse((await chart.getAttribute("data-y-ticks")) ?? "[]"),
    labels: JSON.parse((await chart.getAttribute("data-labels")) ?? "[]"),
  };
}

/** The latency legend's row of one plugin. */
export async function legendRow(page: Page, family: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const col of ["every", "calls", "p50", "p99", "max", "failed"]) {
    out[col] = (await page.getByTestId(`legend-${family}-${col}`).textContent()) ?? "";
  }
  return out;
}

/** "6.5 ms" / "1.2 s" → milliseconds. */
export function parseMs(text: string): number {
  const m = /^([\d.]+) (ms|s)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a latency`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}
