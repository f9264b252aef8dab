// The `manifest` export: the plugin's JSON manifest (docs/manifest.md).
import { postReturn, returnString } from "./cabi";
import { MANIFEST_JSON } from "./manifest-json";

// manifest.json as the build compiled it in (see manifest-json.ts); setManifest overrides it.
let manifestJson = MANIFEST_JSON;

/** Sets the manifest this plugin returns, instead of the manifest.json the build compiled in. */
export function setManifest(json: string): void {
  manifestJson = json;
}

/** Quotes a string for JSON (manifests are built from plain identifiers, but stay safe). */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

export function jsonStringArray(items: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) parts.push(jsonString(items[i]));
  return "[" + parts.join(",") + "]";
}

export function manifest(): usize {
  return returnString(manifestJson);
}

export function cabi_post_manifest(area: usize): void {
  postReturn(area);
}
