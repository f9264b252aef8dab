/** Rewrites `new URL("./entry.ts", import.meta.url)` to `./entry.js` in `<dist>/worker/*.js`; the files changed. */
export function rewriteEntryUrl(dist: string): Promise<string[]>;
/** Bundles src/adapters/node-worker.ts into `outFile` (default dist/adapters/node-worker.js); its path. */
export function buildNodeWorker(outFile?: string): Promise<string>;
