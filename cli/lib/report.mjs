// How a ReloadReport reads in a terminal: one line per step, then the outcome. `--json` prints the report as
// the runtime returns it instead.

/** JSON with bigints as strings. */
export function json(value) {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? String(v) : v), 2);
}

/** @param {import("../../dist/mod.js").ReloadReport} report */
export function reloadLines(report) {
  const lines = [];
  for (const step of report.steps) {
    const mark = step.ok ? "ok  " : "FAIL";
    const what = step.ok ? (step.detail ?? "") : `${step.error?.message ?? ""}`;
    lines.push(`  ${mark} ${step.step.padEnd(15)} ${step.ms.toFixed(1).padStart(7)} ms  ${what}`.trimEnd());
  }
  const { moved } = report;
  if (report.ok) {
    lines.push(
      `reload ${report.pluginId} ${report.from.version} → ${report.to?.version}: OK in ${report.totalMs.toFixed(1)} ms; ` +
        `moved ${moved.indexes} index(es), ${moved.crdtStates} CRDT state(s), ${moved.cdcStreams} CDC stream(s), ${moved.bytes} bytes`,
    );
  } else {
    lines.push(`reload ${report.pluginId} ${report.from.version}: REFUSED at ${report.failedStep}: ${report.reason}`);
  }
  return lines;
}

/** Whether a CDC stream's emits tile their range exactly once; the first problem otherwise. */
export function emitsProblem(emits) {
  for (let i = 1; i < emits.length; i++) {
    const [prev, cur] = [emits[i - 1], emits[i]];
    if (cur.lsnStart !== prev.lsnEnd) {
      const what = cur.lsnStart > prev.lsnEnd ? "a gap" : "LSNs twice";
      return `${what}: [${prev.lsnStart}, ${prev.lsnEnd}) from ${prev.version}, then [${cur.lsnStart}, ${cur.lsnEnd}) from ${cur.version}`;
    }
  }
  return undefined;
}
