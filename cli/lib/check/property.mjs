// Runs a fast-check property and turns a failure into one readable sentence: the plugin's own failure
// message, the shrunk counterexample (abridged), and the seed that reproduces it.
export class CheckFailure extends Error {
  constructor(message, hint) {
    super(message);
    this.name = "CheckFailure";
    this.hint = hint;
  }
}

function abridged(value, limit = 400) {
  let text;
  try {
    text = JSON.stringify(value, (_k, v) =>
      typeof v === "bigint"
        ? `${v}n`
        : v instanceof Uint8Array
          ? `0x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`
          : v,
    );
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/**
 * @param {typeof import("fast-check").default} fc
 * @param {import("fast-check").IProperty<unknown[]> | import("fast-check").IAsyncProperty<unknown[]>} property
 * @param {{ seed: number, numRuns: number }} options
 * @throws {CheckFailure}
 */
export async function holds(fc, property, { seed, numRuns, calls }) {
  const details = await fc.check(property, { seed, numRuns });
  if (!details.failed) return details.numRuns;
  // A trap poisons the instance: every later run (and shrink) fails the same way, so the first trap is the news.
  if (calls?.firstTrap) {
    throw new CheckFailure(
      `${calls.firstTrap.message}; a trap poisons the instance, so the check stopped there (reproduce with --seed ${details.seed})`,
      "bad input must return an error, never trap; a trap is a bug (a panic, a throw, an out-of-bounds access)",
    );
  }
  const err = details.errorInstance;
  if (err instanceof CheckFailure && !details.counterexample) throw err;
  const reason = err instanceof Error ? err.message : String(err ?? "the property failed");
  const shrunk = details.numShrinks > 0 ? ` (shrunk ${details.numShrinks} times)` : "";
  const example = details.counterexample
    ? `; smallest failing input${shrunk}: ${abridged(details.counterexample)}`
    : "";
  throw new CheckFailure(`${reason}${example}; reproduce with --seed ${details.seed}`, err?.hint);
}
