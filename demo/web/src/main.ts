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
    await host.load(await componentBytes(family.v1));
  }
  if (!host.provider("index", "vector.flat") || !host.provider("crdt", "pn-counter")) {
    throw new Error("vector-flat-v1.wasm and crdt-v1.wasm are needed: run npm run build:plugins");
  }

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

  const audit = new LsnAudit(0n);
  const cdc = host.provider("cdc", "changelog") ? await host.attachCdc("changes", "changelog") : null;
  cdc?.onEmit((e) => audit.record(e));
  const loopCounter = await host.createCrdt("loop-counter", "pn-counter");

  // Each client walks its own sequence of rows, so consecutive calls differ.
  let probeRow = 0;
  let ingested = 0;
  let literalRow = 0;
  const ops: LoadOp[] = [
    {
      family: "vector",
      run: () => {
        probeRow = (probeRow + 7919) % ROWS;
        return nearest(app, embeddingOf(data, probeRow), 10);
      },
    },
    {
      family: "crdt",
      run: async () => {
        await loopCounter.apply(["loop", 1]);
        return loopCounter.value();
      },
    },
  ];
  if (cdc) {
    ops.push({
      family: "changelog",
      pauseMs: 100,
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
    loop: new LoadLoop(ops),
    lastHits: [],
    onChange: new Set(),
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

  app.loop.start();
  setInterval(() => {
    redrawLoop();
    redrawCdc();
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
 * Parses every row's location literal through the geo.point plugin, in small chunks after the page is ready
 * (the plugin takes ~70 µs a literal, so one big call would freeze the page for seconds).
 */
async function parseLocations(app: App, geo: LogicalType, redraw: () => void): Promise<void> {
  const chunk = 2_500;
  let parts: Table[] = [];
  for (let start = 0; start < app.data.rows; start += chunk) {
    try {
      parts.push(await geo.fromLiteral(app.data.literals.slice(start, start + chunk)));
    } catch (err) {
      $("map-info").textContent = `Parsing locations failed: ${describeError(err)}`;
      return;
    }
    const done = start + chunk >= app.data.rows;
    if (done || parts.length % 6 === 0) {
      app.locations = (parts[0] as Table).concat(...parts.slice(1));
      parts = [app.locations];
      redraw();
    }
    await yieldToBrowser();
  }
}

main().catch((err) => {
  status(`Setup failed: ${describeError(err)}`);
  document.body.dataset.state = "error";
  console.error(err);
});
