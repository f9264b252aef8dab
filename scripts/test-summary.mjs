// The end-of-run report of scripts/test-all.mjs: steps, a per-file table per runtime, and which shared cases
// passed in every runtime. Returns the totals for the final `N passed, N failed` line.

const pad = (s, n) => String(s).padEnd(n);

/**
 * @param {{ name: string, ok: boolean, note?: string, ms: number }[]} steps
 * @param {Map<string, import("./test-reports.mjs").FileResult[]>} runtimes
 * @param {string[]} runtimeNames column order
 * @param {string[]} sharedRuntimes the runtimes every test/shared case must pass in
 */
export function printSummary(steps, runtimes, runtimeNames, sharedRuntimes = runtimeNames) {
  console.log("\n=== summary ===");
  for (const s of steps) {
    console.log(
      `${pad(s.ok ? "ok" : "FAILED", 7)}${pad(s.name, 15)}${pad(`${(s.ms / 1000).toFixed(1)} s`, 9)}${s.note ?? ""}`,
    );
  }

  let passed = 0;
  let failed = 0;
  /** file -> runtime -> { p, f } */
  const table = new Map();
  for (const [runtime, files] of runtimes) {
    for (const { file, cases } of files) {
      const p = cases.filter((c) => c.passed).length;
      const f = cases.length - p;
      passed += p;
      failed += f;
      if (!table.has(file)) table.set(file, new Map());
      table.get(file).set(runtime, { p, f });
    }
  }
  // A step that failed without producing test results (lint, typecheck, a runner that could not start) counts
  // as one failure, so the totals line never says "0 failed" on a failing run.
  for (const s of steps) if (!s.ok && !runtimes.has(s.name)) failed += 1;

  const width = Math.max(30, ...[...table.keys()].map((f) => f.length + 2));
  console.log(`\n${pad("test file", width)}${runtimeNames.map((r) => pad(`${r} pass/fail`, 20)).join("")}`);
  for (const file of [...table.keys()].sort()) {
    const row = runtimeNames.map((r) => {
      const cell = table.get(file).get(r);
      if (!cell) return pad("-", 20);
      return pad(`${cell.p}/${cell.f}${cell.f ? " FAIL" : ""}`, 20);
    });
    console.log(`${pad(file, width)}${row.join("")}`);
  }

  // Shared cases: the same file + case name passing under every runtime.
  const passedIn = (runtime) =>
    new Set(
      (runtimes.get(runtime) ?? [])
        .filter(({ file }) => file.startsWith("test/shared/"))
        .flatMap(({ file, cases }) => cases.filter((c) => c.passed).map((c) => `${file} :: ${c.name}`)),
    );
  const sets = sharedRuntimes.map(passedIn);
  const everywhere = [...sets[0]].filter((k) => sets.every((s) => s.has(k))).sort();
  const allShared = new Set(
    [...runtimes.values()].flatMap((files) =>
      files
        .filter(({ file }) => file.startsWith("test/shared/"))
        .flatMap(({ file, cases }) => cases.map((c) => `${file} :: ${c.name}`)),
    ),
  );
  console.log(
    `\nshared cases passing in all of ${sharedRuntimes.join(", ")}: ${everywhere.length} of ${allShared.size}`,
  );
  for (const k of everywhere) console.log(`  ok  ${k}`);
  const notEverywhere = [...allShared].filter((k) => !everywhere.includes(k)).sort();
  for (const k of notEverywhere) {
    const where = sharedRuntimes.filter((_, i) => sets[i].has(k));
    console.log(`  --  ${k}  (passed in: ${where.join(", ") || "none"})`);
  }
  return { passed, failed };
}
