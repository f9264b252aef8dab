// The plugin's manifest.json, compiled in: `uni-plugin build` (and the samples' build) replaces this file's
// content with `export const MANIFEST_JSON: string = "<manifest.json, minified>";` as the compiler reads it,
// after checking the manifest strictly. On disk it stays empty, so a build that skips that step returns an
// empty manifest, which every host refuses with a message saying so.
export const MANIFEST_JSON: string = "";
