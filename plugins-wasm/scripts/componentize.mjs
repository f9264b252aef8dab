// The samples and test fixtures are wrapped exactly as `uni-plugin build` wraps an author's core module:
// one implementation, in the CLI (cli/lib/componentize.mjs).
import { loadJco } from "../../cli/lib/componentize.mjs";

// Importers (test/fixtures/build.mjs) use jco directly after importing this module: open the file system for
// jco's wasm-tools now, as this module always did.
await loadJco();

export { componentize, witPath } from "../../cli/lib/componentize.mjs";
