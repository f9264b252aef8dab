/**
 * hnswlib-wasm 0.8.2 mounts an IndexedDB file system when it loads. Outside a
 * browser there is no IndexedDB, so it prints an abort and a stack trace that
 * look like a failure of the benchmark; the in-memory indexes the bench uses
 * are unaffected (their answers are checked against plain JS). This runs its
 * loader with those lines — and only those — kept off the console, and says
 * once, plainly, what happened.
 *
 * @module
 */

const IDBFS_NOISE = /IDBFS|indexedDB|jsFS|EmscriptenFileSystemManager|libcpp_unreachable|^\s+at /;

type Method = "log" | "warn" | "error" | "debug";

export async function withoutIdbfsNoise<T>(load: () => Promise<T>, say: (line: string) => void): Promise<T> {
  const saved = new Map<Method, (...args: unknown[]) => void>();
  let dropped = 0;
  for (const method of ["log", "warn", "error", "debug"] as const) {
    const original = console[method];
    saved.set(method, original);
    // The module binds console.warn once at load (its `err`), so the filter stays in front of that one.
    console[method] = (...args: unknown[]) => {
      const text = args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ""}` : String(a))).join(" ");
      if (IDBFS_NOISE.test(text) || /^Aborted\(Assertion failed: IDBFS/.test(text)) dropped++;
      else original.apply(console, args);
    };
  }
  try {
    const value = await load();
    // Its file-system sync reports on a 1 ms timer after loading: wait for it.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return value;
  } finally {
    for (const [method, original] of saved) console[method] = original;
    if (dropped)
      say("  (hnswlib-wasm: no IndexedDB here, so its file system did not start; its in-memory indexes work)");
  }
}
