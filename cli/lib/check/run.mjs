// `check`'s engine: the world, the manifest, each surface's contract on generated data, the time budget.
// No file or terminal I/O: it takes the component's bytes and returns a report (the command prints it).
import { CliError, messageOf } from "../errors.mjs";
import { inspectComponent, instantiate, manifestProblems } from "../inspect.mjs";
import { component } from "../runtime.mjs";
import { interfaceName, worldExporting } from "../worlds.mjs";
import { Calls } from "./calls.mjs";
import { checkCdcOutput } from "./cdc.mjs";
import { checkCrdtKind } from "./crdt.mjs";
import { checkIndexKind } from "./index-kind.mjs";
import { checkLogicalType } from "./logical-type.mjs";

/** Generated runs per surface: enough to find the usual mistakes in seconds. */
export const DEFAULT_RUNS = { index: 25, crdt: 100, cdc: 40, "logical-type": 30 };
export const DEFAULT_BUDGET_MS = 500;

/**
 * @typedef {{ name: string, ok: boolean, detail?: string, error?: string, hint?: string }} CheckResult
 * @typedef {object} CheckReport
 * @property {boolean} ok
 * @property {{ id?: string, version?: string, world?: string }} plugin
 * @property {CheckResult[]} checks
 * @property {{ count: number, budgetMs: number, slowest: { call: string, ms: number } | null }} calls
 * @property {number} seed
 */

export async function loadFastCheck() {
  try {
    return (await import("fast-check")).default;
  } catch (err) {
    throw new CliError(`check needs fast-check: ${messageOf(err)}`, {
      hint: "npm install --save-dev --save-exact fast-check@4.11.0",
    });
  }
}

/** The world a compiled component is, judged on its component-level imports and exports. */
function worldCheck(module) {
  const world = worldExporting([...module.surfaces]);
  const imports = module.componentImports.filter((n) => n !== interfaceName("types"));
  if (!world) {
    return { ok: false, error: `it exports ${[...module.surfaces].join(" + ")}, which no uni:plugin@1.0.0 world does` };
  }
  const sink = interfaceName("cdc-sink");
  if (imports.includes(sink) && !["cdc-plugin", "multi-plugin"].includes(world)) {
    return { ok: false, world, error: `world ${world} does not import ${sink}, but the component does` };
  }
  return {
    ok: true,
    world,
    detail: `${world}: imports ${imports.join(", ") || "nothing"}; exports ${module.componentExports.join(", ")}`,
  };
}

function manifestResult(inspected) {
  const { manifest, implemented } = inspected;
  const problems = manifestProblems(inspected);
  if (problems.length > 0) {
    return {
      name: "manifest",
      ok: false,
      error: `the manifest does not tell the truth: it ${problems.join("; it ")}`,
      hint: 'make manifest.json "provides" and "capabilities" list exactly what the code implements',
    };
  }
  const provided = Object.entries(implemented)
    .filter(([, keys]) => keys.length > 0)
    .map(([surface, keys]) => `${surface} ${keys.join(", ")}`)
    .join("; ");
  return {
    name: "manifest",
    ok: true,
    detail: `${manifest.id}@${manifest.version}, abi ${manifest.abi}; declares exactly what it implements: ${provided}`,
  };
}

const SUITES = [
  ["index", (key) => `index ${key}`, checkIndexKind],
  ["crdt", (key) => `crdt ${key}`, checkCrdtKind],
  ["cdc", (key) => `cdc ${key}`, checkCdcOutput],
  ["logical-type", (key) => `logical type ${key}`, checkLogicalType],
];

/**
 * @param {Uint8Array} bytes the component
 * @param {{ samples?: object, budgetMs?: number, seed?: number, runs?: number, onResult?: (r: CheckResult) => void, watch?: import("./guard.mjs").CallWatch }} [options]
 * @returns {Promise<CheckReport>}
 */
export async function runCheck(bytes, options = {}) {
  const fc = await loadFastCheck();
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const samples = options.samples ?? {};
  const logs = [];
  const calls = new Calls(budgetMs, logs, options.watch);
  const report = { ok: true, plugin: {}, checks: [], calls: { count: 0, budgetMs, slowest: null }, seed };
  const record = (result) => {
    report.checks.push(result);
    if (!result.ok) report.ok = false;
    options.onResult?.(result);
  };

  let module;
  try {
    module = await component.ComponentModule.compile(bytes);
  } catch (err) {
    const hint = "the imports and exports must be exactly one world of wit/worlds.wit";
    record({ name: "world", ok: false, error: messageOf(err), hint });
    return report;
  }
  const world = worldCheck(module);
  record({ name: "world", ...world });
  report.plugin.world = world.world;

  let inspected;
  try {
    inspected = await inspectComponent(bytes);
  } catch (err) {
    record({ name: "manifest", ok: false, error: messageOf(err), hint: err.hint });
    return report;
  }
  inspected.instance.dispose();
  const { manifest, implemented } = inspected;
  report.plugin.id = manifest.id;
  report.plugin.version = manifest.version;
  record(manifestResult(inspected));

  // What the instances' cdc-sink received; the CDC suite reads and resets it.
  const emits = [];
  const cdcSink = (output, lsnStart, lsnEnd) => emits.push({ output, lsnStart, lsnEnd });
  for (const [surface, title, suite] of SUITES) {
    for (const key of implemented[surface]) {
      // Fresh instances per key: a trap in one cannot poison the next.
      const a = await instantiate(module, { logs, cdcSink, pluginId: manifest.id });
      const b = await instantiate(module, { logs, cdcSink, pluginId: manifest.id });
      calls.firstTrap = null;
      try {
        const detail = await suite({
          fc,
          a,
          b,
          calls,
          kind: key,
          output: key,
          name: key,
          emits,
          sample: samples[surface]?.[key],
          seed,
          numRuns: options.runs ?? DEFAULT_RUNS[surface],
        });
        record({ name: title(key), ok: true, detail });
      } catch (err) {
        record({ name: title(key), ok: false, error: messageOf(err), hint: err.hint });
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  }

  report.calls = { count: calls.count, budgetMs, slowest: calls.slowest };
  const slowest = calls.slowest ? `${calls.slowest.ms.toFixed(1)} ms (${calls.slowest.call})` : "-";
  record(
    calls.overBudget.length === 0
      ? {
          name: "time budget",
          ok: true,
          detail: `${calls.count} calls, slowest ${slowest}, budget ${budgetMs} ms per call`,
        }
      : {
          name: "time budget",
          ok: false,
          error: `calls over the ${budgetMs} ms budget: ${calls.overBudget.map((c) => `${c.call} took ${c.ms.toFixed(0)} ms`).join(", ")}`,
          hint: "a host waits for every call (a hot reload too): keep calls short, or raise --budget-ms if this data size is expected",
        },
  );
  return report;
}
