/**
 * The demo page: loads the v1 plugins, generates the dataset, builds the live resources through the
 * plugins, wires the panels and starts the query loop. `document.body.dataset.state` says where setup is
 * ("loading" → "ready" | "error"), for people and for the end-to-end tests alike.
 */
import "./style.css";
import { type LogicalType, PluginHost } from "../../../src/mod.ts";
import { $, type App, changed } from "./app.ts";
import { embeddingOf, generateDataset } from "./dataset.ts";
import { LoadLoop, type LoadOp } from "./load-loop.ts";
import { LsnAudit } from "./lsn-audit.ts";
import { setupCdc } from "./panels/cdc.ts";
import { setupCrdtWorkbench } from "./panels/crdt-workbench.ts";
import { setupDrop } from "./panels/drop.ts";
import { setupLikes } from "./panels/likes.ts";
import { setupMap } from "./panels/map.ts";
import { nearest, setupSearch } from "./panels/search.ts";
import { setupLoopView, setupUpgrades } from "./panels/upgrades.ts";
import { availableComponents, componentBytes, describeError, FAMILIES } from "./plugins.ts";
import type { Table } from "apache-arrow";
import { changeBatch, indexSource } from "./arrow-tables.ts";
import { yieldToBrowser } from "./random.ts";

const params = new URLSearchParams(location.search);
/** `?rows=N` shrinks the dataset (handy on slow machines); 100,000 by default. */
const ROWS = Math.min(1_000_000, Math.max(1000, Number(params.get("rows")) || 100_000));
const DIM = 64;

const started = performance.now();
function status(text: string): void {
  $("status").textContent = text;
  console.info(`[demo ${(performance.now() - started).toFixed(0)} ms] ${text}`);
}

async function main(): Promise<void> {
  const host = new PluginHost({
    onLog: ({ pluginId, level, message }) => console.debug(`[${pluginId}] ${level}: ${message}`),
  });
  const available = await availableComponents();
  for (const family of FAMILIES) {
    if (!available.has(family.v1)) continue;
    status(`Loading ${family.v1}.wasm…`);
    await host.load(await componentBytes(family.v1), family.loadOptions);
  }
  if (!host.provider("index", "vector.flat") || !host.provider("crdt", "pn-counter")) {
    throw new Error("vector-flat-v1.wasm and crdt-v1.wasm are needed: run npm run build:plugins");
  }

  for (const el of document.querySelectorAll(".rows-count")) el.textContent = ROWS.toLocaleString("en");
  const data = await generateDataset({
    rows: ROWS,
    dim: DIM,
    seed: 7,
    onProgress: (done) => status(`Generating rows: ${done.toLocaleString("en")} / ${ROWS.toLocaleString("en")}…`),
  });

  const geo: LogicalType | null = host.provider("logical-type", "geo.point") ? host.logicalType("geo.point") : null;

  status(`Building the vector.flat index over ${ROWS.toLocaleString("en")} embeddings (inside the plugin)…`);
  await yieldToBrowser();
  const index = await host.createIndex("catalogue", "vector.flat", indexSource(data.ids, data.vectors, DIM), {
    metric: "l2",
  });

  const audit = new LsnAudit(0n, 400);
  const cdc = host.provider("cdc", "changelog") ? await host.attachCdc("changes", "changelog") : null;
  cdc?.onEmit((e) => audit.record(e));
  const loopCounter = await host.createCrdt("loop-counter", "pn-counter");

  // Each client walks its own sequence of rows, so consecutive calls differ. Rates: see LoadOp.everyMs; the
  // probe (a scan of all rows) is the expensive call, so it comes least often after ingest (a one-row batch every 100 ms, steady traffic).
  let probeRow = 0;
  let ingested = 0;
  let literalRow = 0;
  const ops: LoadOp[] = [
    {
      family: "vector",
      everyMs: 50,
      run: () => {
        probeRow = (probeRow + 7919) % ROWS;
        return nearest(app, embeddingOf(data, probeRow), 10);
      },
    },
    {
      family: "crdt",
      everyMs: 20,
      run: async () => {
        await loopCounter.apply(["loop", 1]);
        return loopCounter.value();
      },
    },
  ];
  if (cdc) {
    ops.push({
      family: "changelog",
      everyMs: 100,
      run: () => {
        ingested++;
        return cdc.publish(
          changeBatch([{ id: BigInt(-ingested), category: "loop", location: "POINT(0 0)", likes: 0 }]),
        );
      },
    });
  }
  if (geo) {
    const g = geo;
    ops.push({
      family: "types",
      everyMs: 20,
      run: async () => {
        literalRow = (literalRow + 4) % ROWS;
        return g.toDisplay(await g.fromLiteral(data.literals.slice(literalRow, literalRow + 4)));
      },
    });
  }

  const app: App = {
    host,
    data,
    index,
    cdc,
    audit,
    geo,
    locations: null,
    locationsParsed: 0,
    loop: new LoadLoop(ops),
    lastHits: [],
    onChange: new Set(),
    droppedIds: new Set(),
    pickCrdtKind: null,
  };

  const selectRow = setupLikes(app);
  const redrawMap = setupMap(app);
  app.onChange.add(redrawMap);
  setupSearch(app, selectRow);
  app.onChange.add(setupUpgrades(app, available));
  const redrawCdc = setupCdc(app);
  app.onChange.add(redrawCdc);
  const redrawLoop = setupLoopView(app);
  setupDrop(app);
  app.onChange.add(setupCrdtWorkbench(app));

  app.loop.start();
  // Which versions serve: when it changes without a panel saying so (say, host.reload from the console as
  // `demo.host`), the panels redraw all the same.
  const servingNow = () =>
    host
      .plugins()
      .map((p) => `${p.id}@${p.version}#${p.generation}`)
      .join(" ");
  let serving = servingNow();
  setInterval(() => {
    redrawLoop();
    redrawCdc();
    if (servingNow() !== serving) {
      serving = servingNow();
      changed(app);
    }
  }, 250);
  changed(app);
  const missing = FAMILIES.filter((f) => !available.has(f.v1)).map((f) => `${f.v1}.wasm`);
  status(
    `Ready: ${ROWS.toLocaleString("en")} rows, ${host.plugins().length} plugins loaded, query loop running.` +
      (missing.length ? ` Not built yet: ${missing.join(", ")}.` : ""),
  );
  document.body.dataset.state = "ready";
  (globalThis as { demo?: App }).demo = app;
  if (geo) await parseLocations(app, geo, redrawMap);
}

/**
 * Parses every row's location literal through the geo.point plugin, in chunks after the page is ready (one
 * call for all 100,000 would hold the page for its whole duration), and hands the map the full column at the
 * end: redrawing 100,000 dots as they trickle in would cost more than the parsing.
 */
async function parseLocations(app: App, geo: LogicalType, redraw: () => void): Promise<void> {
  const chunk = 2_500;
  const parts: Table[] = [];
  for (let start = 0; start < app.data.rows; start += chunk) {
    try {
      parts.push(await geo.fromLiteral(app.data.literals.slice(start, start + chunk)));
    } catch (err) {
      $("map-info").textContent = `Parsing locations failed: ${describeError(err)}`;
      return;
    }
    app.locationsParsed = Math.min(app.data.rows, start + chunk);
    redraw();
    await yieldToBrowser();
  }
  app.locations = (parts[0] as Table).concat(...parts.slice(1));
  redraw();
}

main().catch((err) => {
  status(`Setup failed: ${describeError(err)}`);
  document.body.dataset.state = "error";
  console.error(err);
});
