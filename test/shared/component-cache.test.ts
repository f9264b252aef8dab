// The compile cache's content key: the same bytes always map to the same SHA-256, and bytes changed in place
// (the same Uint8Array object, mutated after a load) are never mistaken for the bytes it held before.
import { describe, expect, it } from "#test";
import { ComponentModule } from "../../src/component/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("compile cache key", () => {
  it("is the SHA-256 of exactly the bytes given, also when an array is mutated in place", async () => {
    const bytes = await loadPlugin("crdt-v1");
    const first = await ComponentModule.compile(bytes);
    expect(first.hash).to.equal(await sha256(bytes));

    // Flip a byte inside the last section (a custom section's payload) without changing the length.
    const at = bytes.length - 2;
    const original = bytes[at] as number;
    bytes[at] = original ^ 0xff;
    const changed = await ComponentModule.compile(bytes).then(
      (m) => m.hash,
      () => "refused", // a flip that breaks the binary is refused; either way it is not the old module
    );
    expect(changed).not.to.equal(first.hash);
    if (changed !== "refused") expect(changed).to.equal(await sha256(bytes));

    bytes[at] = original;
    const compiles = ComponentModule.compileCount;
    const again = await ComponentModule.compile(bytes);
    expect(again.hash).to.equal(first.hash);
    expect(ComponentModule.compileCount).to.equal(compiles); // served from the cache
  });
});
