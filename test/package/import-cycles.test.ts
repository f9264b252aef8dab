// The source has no import cycle, type-only imports included: every module of src/ can be read knowing only
// what it imports. Node only (it reads the files).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src/", import.meta.url));
const SPECIFIER = /\b(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}\/[^"]+)"/gs;

/** module → the modules it imports (relative `.ts` specifiers), all as paths relative to src/. */
function graph(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of readdirSync(src, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    // Doc comments hold `import` examples; only real import/export statements count.
    const text = readFileSync(join(src, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    const deps = [...text.matchAll(SPECIFIER)].map((m) =>
      relative(src, normalize(join(src, dirname(file), m[1] as string))),
    );
    out.set(file, deps);
  }
  return out;
}

/** One cycle per strongly connected component of more than one module (or a self-import), as a path. */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (m: string) => {
    state.set(m, "visiting");
    stack.push(m);
    for (const d of g.get(m) ?? []) {
      if (state.get(d) === "visiting") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(m, "done");
  };
  for (const m of g.keys()) if (!state.has(m)) visit(m);
  return found;
}

describe("src/ imports", () => {
  it("form no cycle", () => {
    const g = graph();
    expect(g.size).toBeGreaterThan(20);
    expect(g.get("host.ts")).toContain("reload.ts"); // the finder sees real edges
    expect(cycles(g).map((c) => c.join(" → "))).toEqual([]);
  });

  it("finds a cycle when there is one (the checker itself can fail)", () => {
    const g = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(cycles(g).map((c) => c.join(" → "))).toEqual(["a.ts → b.ts → c.ts → a.ts"]);
  });
});
