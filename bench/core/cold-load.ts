/**
 * 6. Cold load: component bytes → a registered, ready plugin (`host.load`),
 * the first time (compile cache cleared) and again with the compiled module
 * cached. Baselines, same round: `WebAssembly.compile` + `instantiate` of the
 * same main core module (cold), and `instantiate` of an already compiled one (warm).
 *
 * @module
 */
import { component, PluginHost } from "../../src/mod.ts";
import { mainCoreModule } from "./core-module.ts";
import { figure } from "./figure.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, ComponentName, Figure } from "./types.ts";

/** Imports that satisfy any module: every function a no-op returning 0. */
function stubImports(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    imports[i.module] ??= {};
    if (i.kind === "function") (imports[i.module] as Record<string, WebAssembly.ImportValue>)[i.name] = () => 0;
  }
  return imports;
}

export async function coldLoad(env: BenchEnv): Promise<Figure[]> {
  const rounds = env.smoke ? 1 : 7;
  const figures: Figure[] = [];
  for (const name of ["vector-flat-v1", "crdt-v1", "types-v1"] as ComponentName[]) {
    const bytes = await env.component(name);
    if (!bytes) continue;
    const core = mainCoreModule(bytes);
    const cold: number[] = [];
    const warm: number[] = [];
    const rawCold: number[] = [];
    const rawWarm: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      component.ComponentModule.clearCache();
      let host = new PluginHost({ onLog: () => {} });
      let t0 = now();
      await host.load(bytes);
      const c = now() - t0;
      host.dispose();
      host = new PluginHost({ onLog: () => {} });
      t0 = now();
      await host.load(bytes);
      const w = now() - t0;
      host.dispose();
      t0 = now();
      const module = await WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
      await WebAssembly.instantiate(module, stubImports(module));
      const rc = now() - t0;
      const imports = stubImports(module);
      t0 = now();
      await WebAssembly.instantiate(module, imports);
      const rw = now() - t0;
      if (r > 0) {
        cold.push(c);
        warm.push(w);
        rawCold.push(rc);
        rawWarm.push(rw);
      }
      await tick();
    }
    figures.push(
      figure({
        id: `cold.${name}.first`,
        group: "6. cold load",
        name: `${name} (${(bytes.length / 1024).toFixed(0)} KiB): bytes → ready, first time`,
        unit: "ms",
        samples: cold,
        baseline: { name: "WebAssembly.compile + instantiate of the main core module", samples: rawCold },
        notes:
          "host.load: SHA-256, component parse + validation, compile, instantiate, manifest, registry; no goal set",
      }),
      figure({
        id: `cold.${name}.cached`,
        group: "6. cold load",
        name: `${name}: bytes → ready, compiled module cached`,
        unit: "ms",
        samples: warm,
        baseline: { name: "WebAssembly.instantiate of the compiled core module", samples: rawWarm },
        notes: "no goal set",
      }),
    );
  }
  return figures;
}
