// Logical types: literal → storage → display → storage must be a fixed point (sample literals from
// uni-plugin.json), and so must storage → display → storage on generated storage values the type accepts.
import { Table, tableFromIPC, Utf8, vectorFromArray } from "apache-arrow";
import { arrowType, ipc, makeTable, plain, valueArbitrary } from "../arrow-gen.mjs";
import { CheckFailure, holds } from "./property.mjs";

const utf8Column = (values) => ipc(new Table({ value: vectorFromArray(values, new Utf8()) }));

/** The first column of an IPC stream: its type and its values as JSON text per row. */
function column(bytes, what) {
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new CheckFailure(`${what} is not a valid Arrow IPC stream: ${err.message}`);
  }
  const field = table.schema.fields[0];
  if (!field) throw new CheckFailure(`${what} has no column`);
  const vector = table.getChildAt(0);
  const values = Array.from({ length: table.numRows }, (_, i) => JSON.stringify(plain(vector?.get(i))));
  return { type: String(field.type), values };
}

/**
 * @returns {Promise<string>} what was checked
 * @throws {CheckFailure}
 */
export async function checkLogicalType({ fc, a, calls, name, sample, seed, numRuns }) {
  const lt = a.logicalType;
  const storage = calls.run("logical-type.arrow-type", () => lt.arrowType(name));
  const encoding = calls.run("logical-type.encoding-version", () => lt.encodingVersion(name));
  const checked = [];

  /** storage bytes → display → storage → display; returns the display strings. */
  const roundTrip = (stored, origin) => {
    const s1 = column(stored, "from-literal's output");
    if (s1.type !== storage) {
      throw new CheckFailure(`${origin()} is stored as ${s1.type}, but arrow-type says ${storage}`);
    }
    const d1bytes = calls.run("logical-type.to-display", () => lt.toDisplay(name, stored));
    const d1 = column(d1bytes, "to-display's output");
    if (d1.type !== "Utf8") throw new CheckFailure(`to-display returned ${d1.type}, not Utf8`);
    const shown = tableFromIPC(d1bytes).getChildAt(0);
    const texts = Array.from({ length: d1.values.length }, (_, i) => shown?.get(i) ?? null);
    const reparsed = calls.run("logical-type.from-literal", () => lt.fromLiteral(name, utf8Column(texts)));
    const s2 = column(reparsed, "from-literal's output");
    const d2 = column(
      calls.run("logical-type.to-display", () => lt.toDisplay(name, reparsed)),
      "to-display's output",
    );
    for (let i = 0; i < s1.values.length; i++) {
      if (s2.values[i] !== s1.values[i] || d2.values[i] !== d1.values[i]) {
        throw new CheckFailure(
          `${origin(i)} is stored as ${s1.values[i]} and displayed as ${d1.values[i]}, but that display parses back to ${s2.values[i]} (displayed ${d2.values[i]})`,
          "to-display must print what from-literal reads back to the same stored value",
        );
      }
    }
    return texts;
  };

  const literals = sample?.literals ?? [];
  if (literals.length > 0) {
    const input = [...literals, null];
    const stored = calls.run("logical-type.from-literal", () => lt.fromLiteral(name, utf8Column(input)));
    const rows = column(stored, "from-literal's output").values;
    if (rows.length !== input.length) {
      throw new CheckFailure(`from-literal turned ${input.length} literals into ${rows.length} rows`);
    }
    if (rows[rows.length - 1] !== "null") throw new CheckFailure("from-literal did not keep a null literal null");
    roundTrip(stored, (i) => (i === undefined ? "the sample literals" : `literal ${JSON.stringify(input[i])}`));
    checked.push(`${literals.length} sample literals`);
  }

  const type = arrowType(storage);
  let generated = 0;
  if (type) {
    const values = fc.array(valueArbitrary(fc, type), { minLength: 1, maxLength: 12 });
    const property = fc.property(values, (vals) => {
      // Keep the values cast-from accepts as valid storage (a type may restrict its storage, e.g. a range).
      const valid = [];
      for (const v of vals) {
        const got = calls.attempt("logical-type.cast-from", () =>
          lt.castFrom(name, ipc(makeTable({ value: type }, [{ value: v }]))),
        );
        if (got.value) valid.push(v);
      }
      if (valid.length === 0) return;
      generated += valid.length;
      const stored = calls.run("logical-type.cast-from", () =>
        lt.castFrom(
          name,
          ipc(
            makeTable(
              { value: type },
              valid.map((value) => ({ value })),
            ),
          ),
        ),
      );
      roundTrip(stored, (i) =>
        i === undefined ? "generated storage" : `stored value ${JSON.stringify(plain(valid[i]))}`,
      );
    });
    await holds(fc, property, { seed, numRuns, calls });
    if (generated > 0) checked.push(`${generated} generated ${storage} values`);
  }
  if (checked.length === 0) {
    throw new CheckFailure(
      `nothing to round-trip for "${name}": no sample literals, and ${type ? `no generated ${storage} value was accepted by cast-from` : `no generator for ${storage}`}`,
      `give check literals in uni-plugin.json: "samples": { "logical-type": { "${name}": { "literals": [ … ] } } }`,
    );
  }
  return `literal → storage → display round trip (${checked.join(", ")}); storage ${storage}, encoding ${encoding}`;
}
