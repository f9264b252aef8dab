// Live state for a dry-run (compat) or a dev session: generated from the plugin's own surfaces, or loaded from
// a state folder a host saved. Everything goes through PluginHost's public API, so a reload hands over exactly
// what it would in a real host.
//
// A state folder holds state.json and one file of persisted bytes per index or CRDT state:
//   { "indexes": [{ "name": "docs", "kind": "vector.flat", "file": "index-docs.bin", "queries": "index-docs.query.arrow", "k": 10 }],
//     "crdts": [{ "name": "likes", "kind": "pn-counter", "file": "crdt-likes.bin" }],
//     "cdc": [{ "name": "feed", "output": "changelog", "fromLsn": "1200" }],
//     "literals": { "geo.point": ["POINT(13.4 52.5)"] } }
// `queries` (Arrow IPC) and `k` are optional: they are what compat probes before and after the reload.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { arrowType, ipc, makeTable, plainRows, valueArbitrary } from "./arrow-gen.mjs";
import { encodeOp, opCandidates } from "./check/crdt.mjs";
import { describeShape, INDEX_SHAPES, queryArbitrary, sourceArbitrary } from "./check/index-kind.mjs";
import { CliError, messageOf } from "./errors.mjs";
import { PluginCallError } from "./runtime.mjs";

/**
 * @typedef {object} LiveState what a host holds for one plugin, and how to look at it
 * @property {{ name: string, kind: string, queries?: Uint8Array, k: number }[]} indexes
 * @property {{ name: string, kind: string }[]} crdts
 * @property {{ name: string, output: string, emits: { lsnStart: bigint, lsnEnd: bigint, version: string }[] }[]} cdc
 * @property {Record<string, string[]>} literals per logical type
 * @property {string[]} notes how the state was made
 */

const safe = (name) => name.replace(/[^A-Za-z0-9._-]/g, "_");

function provided(host, handle) {
  const info = host.plugins().find((p) => p.id === handle.id);
  if (!info) throw new CliError(`plugin ${handle.id} is not loaded`);
  return info.registered;
}

/** Subscribes to a live CDC stream's emits, keeping LSNs and the emitting version. */
function recordEmits(stream) {
  const emits = [];
  stream.onEmit((e) => emits.push({ lsnStart: e.lsnStart, lsnEnd: e.lsnEnd, version: e.version }));
  return emits;
}

async function publishSome(stream, fc, seed, batches) {
  const sizes = fc.sample(fc.integer({ min: 1, max: 4 }), { seed, numRuns: batches });
  for (const rows of sizes) {
    const at = stream.nextLsn;
    const table = makeTable(
      { key: "Int64", op: "Utf8" },
      Array.from({ length: rows }, (_, i) => ({ key: at + BigInt(i), op: "upsert" })),
    );
    await stream.publish(ipc(table));
  }
}

/** A typed plugin refusal means "try something else"; anything else (a trap) is news. */
async function refused(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    if (err instanceof PluginCallError) return { error: err };
    throw err;
  }
}

/**
 * Creates live state for everything `handle` provides: an index per kind, two CRDT states per kind, a CDC
 * stream per output with a few batches published, and literals per logical type seen by the host.
 * @returns {Promise<LiveState>}
 */
export async function generateState(host, handle, { fc, samples = {}, seed }) {
  const keys = provided(host, handle);
  const state = { indexes: [], crdts: [], cdc: [], literals: {}, notes: [] };

  for (const kind of keys.index) {
    const shapes = samples.index?.[kind] ? [samples.index[kind]] : INDEX_SHAPES;
    let made = false;
    const tried = [];
    for (const shape of shapes) {
      const [rows] = fc.sample(sourceArbitrary(fc, shape), { seed, numRuns: 1 });
      const name = `index-${kind}`;
      const built = await refused(() =>
        host.createIndex(name, kind, ipc(makeTable(shape.source, rows)), shape.options ?? {}),
      );
      if (built.error) {
        tried.push(`${describeShape(shape.source)}: ${built.error.message}`);
        continue;
      }
      const [queries] = fc.sample(queryArbitrary(fc, shape, rows), { seed, numRuns: 1 });
      state.indexes.push({ name, kind, queries: ipc(makeTable(shape.query, queries)), k: Math.min(rows.length, 10) });
      state.notes.push(`index "${name}" (${kind}): ${rows.length} rows of ${describeShape(shape.source)}`);
      made = true;
      break;
    }
    if (!made) {
      throw new CliError(`cannot build a "${kind}" index from generated data (${tried.join("; ")})`, {
        hint: `describe its source in uni-plugin.json: "samples": { "index": { "${kind}": { "source": { … }, "query": { … } } } }`,
      });
    }
  }

  for (const kind of keys.crdt) {
    const scratch = await host.createCrdt(`scratch-${kind}`, kind);
    const arbs = [];
    for (const arb of Object.values(opCandidates(fc))) {
      let ok = 0;
      for (const op of fc.sample(arb, { seed, numRuns: 10 }))
        if (!(await refused(() => scratch.apply(encodeOp(op)))).error) ok++;
      if (ok >= 3) arbs.push(arb);
    }
    await scratch.drop();
    if (samples.crdt?.[kind]?.ops?.length) arbs.push(fc.constantFrom(...samples.crdt[kind].ops));
    if (arbs.length === 0) {
      throw new CliError(`no generated op is accepted by CRDT kind "${kind}"`, {
        hint: `give example ops in uni-plugin.json: "samples": { "crdt": { "${kind}": { "ops": [ … ] } } }`,
      });
    }
    for (const [i, opsSeed] of [seed, seed + 1].entries()) {
      const name = `crdt-${kind}-${i}`;
      const live = await host.createCrdt(name, kind);
      let applied = 0;
      for (const op of fc.sample(fc.oneof(...arbs), { seed: opsSeed, numRuns: 12 })) {
        if (!(await refused(() => live.apply(encodeOp(op)))).error) applied++;
      }
      state.crdts.push({ name, kind });
      state.notes.push(`crdt "${name}" (${kind}): ${applied} ops applied`);
    }
  }

  for (const output of keys.cdc) {
    const name = `cdc-${output}`;
    const stream = await host.attachCdc(name, output, { checkpointEvery: 2 });
    const emits = recordEmits(stream);
    await publishSome(stream, fc, seed, 5);
    state.cdc.push({ name, output, emits });
    state.notes.push(`cdc "${name}" (${output}): ${stream.nextLsn} LSNs published, checkpoint ${stream.checkpointed}`);
  }

  for (const type of keys["logical-type"]) {
    const lt = host.logicalType(type);
    let literals = samples["logical-type"]?.[type]?.literals ?? [];
    if (literals.length === 0) {
      // No samples: valid storage values (cast-from accepts them), displayed, make the literals.
      const storage = arrowType(await lt.arrowType());
      if (storage) {
        const values = fc.sample(valueArbitrary(fc, storage), { seed, numRuns: 40 });
        const valid = [];
        for (const value of values) {
          const cast = await refused(() => lt.castFrom(makeTable({ value: storage }, [{ value }])));
          if (cast.value) valid.push(...(await lt.toDisplay(cast.value)));
        }
        literals = valid.filter((v) => v !== null).slice(0, 16);
      }
    }
    await lt.fromLiteral(literals); // the host keeps these as the samples its reload checks
    state.literals[type] = literals;
    state.notes.push(`logical type "${type}": ${literals.length} literals seen`);
  }
  return state;
}

/**
 * What the state looks like now: index answers, CRDT values, CDC positions, literal displays.
 * @returns {Promise<Record<string, string>>} one line per resource
 */
export async function observe(host, state) {
  const seen = {};
  for (const { name, queries, k } of state.indexes) {
    const index = host.index(name);
    if (index && queries) seen[`index ${name}`] = JSON.stringify(plainRows(await index.probeIPC(queries, k)));
  }
  for (const { name } of state.crdts) {
    const crdt = host.crdt(name);
    if (crdt)
      seen[`crdt ${name}`] = JSON.stringify(await crdt.value(), (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  }
  for (const { name } of state.cdc) {
    const cdc = host.cdc(name);
    if (cdc) seen[`cdc ${name}`] = `emitted up to ${cdc.emittedEnd}, checkpoint ${cdc.checkpointed}`;
  }
  for (const [type, literals] of Object.entries(state.literals)) {
    const lt = host.logicalType(type);
    seen[`logical type ${type}`] = JSON.stringify(await lt.toDisplay(await lt.fromLiteral(literals)));
  }
  return seen;
}

/** Writes a state folder (see the top of this file) from a host's live resources. */
export async function saveState(host, state, dir) {
  await mkdir(dir, { recursive: true });
  const json = { indexes: [], crdts: [], cdc: [], literals: state.literals };
  for (const { name, kind, queries, k } of state.indexes) {
    const file = `index-${safe(name)}.bin`;
    await writeFile(join(dir, file), await host.index(name).persist());
    const entry = { name, kind, file, k };
    if (queries) {
      entry.queries = `index-${safe(name)}.query.arrow`;
      await writeFile(join(dir, entry.queries), queries);
    }
    json.indexes.push(entry);
  }
  for (const { name, kind } of state.crdts) {
    const file = `crdt-${safe(name)}.bin`;
    await writeFile(join(dir, file), await host.crdt(name).persist());
    json.crdts.push({ name, kind, file });
  }
  for (const { name, output } of state.cdc) {
    json.cdc.push({ name, output, fromLsn: String(await host.cdc(name).checkpoint()) });
  }
  await writeFile(join(dir, "state.json"), `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Recreates a saved state folder's resources in `host` (whose plugin must provide their kinds).
 * @returns {Promise<LiveState>}
 * @throws {CliError} naming the file or resource that does not load
 */
export async function loadState(host, dir, { fc, seed }) {
  let json;
  try {
    json = JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
  } catch (err) {
    throw new CliError(`cannot read ${join(dir, "state.json")}: ${messageOf(err)}`, {
      hint: "a state folder holds state.json and the persisted files it names (see docs/authoring.md)",
    });
  }
  const state = { indexes: [], crdts: [], cdc: [], literals: json.literals ?? {}, notes: [`state from ${dir}`] };
  const bytes = async (file) => new Uint8Array(await readFile(join(dir, file)));
  const opening = async (what, fn) => {
    try {
      return await fn();
    } catch (err) {
      throw new CliError(`the old version cannot open saved ${what}: ${messageOf(err)}`);
    }
  };
  for (const { name, kind, file, queries, k } of json.indexes ?? []) {
    await opening(`index "${name}"`, async () => host.openIndex(name, kind, await bytes(file)));
    const q = queries ? await bytes(queries) : undefined;
    if (q) tableFromIPC(q); // a bad query file is the folder's fault: say so now, not mid-reload
    state.indexes.push({ name, kind, queries: q, k: k ?? 10 });
  }
  for (const { name, kind, file } of json.crdts ?? []) {
    await opening(`crdt "${name}"`, async () => host.createCrdt(name, kind, await bytes(file)));
    state.crdts.push({ name, kind });
  }
  for (const { name, output, fromLsn } of json.cdc ?? []) {
    const stream = await opening(`cdc "${name}"`, () =>
      host.attachCdc(name, output, { fromLsn: BigInt(fromLsn ?? 0), checkpointEvery: 2 }),
    );
    const emits = recordEmits(stream);
    await publishSome(stream, fc, seed, 3);
    state.cdc.push({ name, output, emits });
  }
  for (const [type, literals] of Object.entries(state.literals)) await host.logicalType(type).fromLiteral(literals);
  return state;
}

export { publishSome };
