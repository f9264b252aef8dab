// Reads the runners' machine-readable reports into one shape:
//   FileResult = { file: "test/shared/x.test.ts", cases: [{ name: "describe > it", passed: boolean }] }
// A file that failed to load (syntax error, failing import, failing beforeAll) gets a synthetic failed case,
// so it is counted instead of silently contributing nothing.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";

/**
 * @typedef {{ name: string, passed: boolean }} CaseResult
 * @typedef {{ file: string, cases: CaseResult[] }} FileResult
 */

const LOAD_FAILURE = "(file failed to load or a hook failed)";

/** vitest `--reporter=json` output. @returns {Promise<FileResult[]>} */
export async function readVitestJson(path, root) {
  const report = JSON.parse(await readFile(path, "utf8"));
  return report.testResults.map((suite) => {
    const cases = suite.assertionResults
      // skipped/todo cases neither pass nor fail
      .filter((c) => c.status === "passed" || c.status === "failed")
      .map((c) => ({ name: [...c.ancestorTitles, c.title].join(" > "), passed: c.status === "passed" }));
    if (suite.status === "failed" && !cases.some((c) => !c.passed)) cases.push({ name: LOAD_FAILURE, passed: false });
    return { file: relative(root, suite.name).split("\\").join("/"), cases };
  });
}

const xmlEntities = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescapeXml = (s) =>
  s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e) =>
    e[0] === "#" ? String.fromCodePoint(Number(e[1] === "x" ? `0${e.slice(1)}` : e.slice(1))) : xmlEntities[e],
  );

/** Every <testcase> in document order, with its suite name and whether it holds a <failure>/<error>. */
function junitCases(xml) {
  const out = [];
  const suiteRe = /<testsuite\s+name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testsuite>)/g;
  for (const [, suiteName, body = ""] of xml.matchAll(suiteRe)) {
    const caseRe = /<testcase\s+name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g;
    for (const [, name, inner = ""] of body.matchAll(caseRe)) {
      out.push({ suite: unescapeXml(suiteName), name: unescapeXml(name), failed: /<(failure|error)\b/.test(inner) });
    }
  }
  return out;
}

/**
 * `deno test --junit-path` output. Deno reports each file's top-level tests (our top-level `describe`s) under
 * the file's suite, but node:test's nested describe/it (Deno test steps) under a suite named after Deno's
 * internal module, in run order, named "outer > inner". Files run one after another, so the steps following a
 * top-level test whose names start with "<its name> > " belong to it. Only leaves are cases.
 * @returns {FileResult[]}
 */
export function readDenoJunit(xml) {
  const all = junitCases(xml);
  const tops = all.filter((c) => c.suite.startsWith("./"));
  const steps = all.filter((c) => !c.suite.startsWith("./"));
  const files = new Map();
  let next = 0;
  for (const top of tops) {
    const file = top.suite.slice(2);
    if (!files.has(file)) files.set(file, []);
    const mine = [];
    while (next < steps.length && steps[next].name.startsWith(`${top.name} > `)) mine.push(steps[next++]);
    const leaves = mine.filter((s) => !mine.some((o) => o !== s && o.name.startsWith(`${s.name} > `)));
    const cases = leaves.length ? leaves : [top];
    for (const c of cases) files.get(file).push({ name: c.name, passed: !c.failed });
    // A failed describe with no failed step: its hook or body threw.
    if (top.failed && !cases.some((c) => c.failed)) files.get(file).push({ name: LOAD_FAILURE, passed: false });
  }
  // Steps nobody claimed (an unexpected report shape): count them rather than drop them.
  if (next < steps.length) {
    files.set(
      "(unattributed deno steps)",
      steps.slice(next).map((s) => ({ name: s.name, passed: !s.failed })),
    );
  }
  return [...files].map(([file, cases]) => ({ file, cases }));
}

/**
 * Playwright's JSON report (PLAYWRIGHT_JSON_OUTPUT_NAME) as per-file results; a spec counts as passed when
 * Playwright says it is `ok` (expected outcome, retries included).
 * @returns {FileResult[]}
 */
export function readPlaywrightJson(json, prefix) {
  const byFile = new Map();
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      const file = `${prefix}${spec.file ?? suite.file}`;
      if (!byFile.has(file)) byFile.set(file, []);
      byFile.get(file).push({ name: [...titles, spec.title].join(" > "), passed: spec.ok === true });
    }
    for (const child of suite.suites ?? [])
      walk(child, child.title && child.title !== child.file ? [...titles, child.title] : titles);
  };
  for (const suite of json.suites ?? []) walk(suite, []);
  return [...byFile].map(([file, cases]) => ({ file, cases }));
}
