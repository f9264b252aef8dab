/**
 * hnswlib-wasm 0.8.2 mounts an IndexedDB file system when it loads. Outside a
 * browser there is no IndexedDB, so it prints, now or some time later, lines
 * (an abort, a stack trace, "Mounting IDBFS…") that look like a failure of
 * the benchmark; the in-memory indexes the bench uses are unaffected (their
 * answers are checked against plain JS). This keeps those lines — and only
 * lines naming its file system — off the console for the rest of the run, and
 * says once, plainly, what happened.
 *
 * @module
 */

/** Every line hnswlib's file-system layer prints names one of these. */
const IDBFS_NOISE = /IDBFS|indexedDB|jsFS|EmscriptenFileSystemManager/;

type Method = "log" | "warn" | "error" | "debug";
let installed = false;

export async function withoutIdbfsNoise<T>(load: () => Promise<T>, say: (line: string) => void): Promise<T> {
  if (!installed) {
    installed = true;
    let told = false;
    for (const method of ["log", "warn", "error", "debug"] as const satisfies readonly Method[]) {
      const original = console[method];
      // The module also binds console.warn once at load (its `err`), so the filter must be in place before.
      console[method] = (...args: unknown[]) => {
        const text = args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ""}` : String(a))).join(" ");
        if (!IDBFS_NOISE.test(text)) return original.apply(console, args);
        if (!told) {
          told = true;
          say("  (hnswlib-wasm: no IndexedDB here, so its file system does not start; its in-memory indexes work)");
        }
      };
    }
  }
  return await load();
}
