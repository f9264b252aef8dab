// The runtime, through its public API only (the package's own build of src/mod.ts).
// One import site, so the CLI and the package cannot disagree about where the runtime lives.
export {
  ErrorCode,
  HOST_ABI,
  LoadError,
  ManifestError,
  PluginCallError,
  PluginError,
  PluginHost,
  ReloadError,
  TrapError,
  component,
  fromIPC,
  parseManifest,
  toIPC,
} from "../../dist/mod.js";
