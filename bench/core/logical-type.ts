/**
 * 5b. Logical-type cast throughput: `geo.point` literals (`POINT(lon lat)`)
 * parsed into storage by the plugin (`from-literal`, Arrow IPC in and out),
 * and storage cast back to `Utf8` (`cast-to`), per 1M values. Baseline, same
 * round: the same parse in plain TypeScript into a Float64Array of pairs.
 *
 * @module
 */
import { Table, vectorFromArray, Utf8 } from "apache-arrow";
import { component, fromIPC, toIPC } from "../../src/mod.ts";
import { random } from "./data.ts";
import { figure } from "./figure.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, ComponentName, Figure } from "./types.ts";

const NAME = "geo.point";
const WKT = /^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$/i;

function literals(n: number): string[] {
  const next = random(21);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    out[i] = `POINT(${(next() * 360 - 180).toFixed(5)} ${(next() * 180 - 90).toFixed(5)})`;
  }
  return out;
}

/** The baseline: WKT points to (lon, lat) pairs, validated, in plain TypeScript. */
function parseTs(texts: string[]): Float64Array {
  const out = new Float64Array(texts.length * 2);
  for (let i = 0; i < texts.length; i++) {
    const m = WKT.exec(texts[i] as string);
    const lon = m ? Number(m[1]) : Number.NaN;
    const lat = m ? Number(m[2]) : Number.NaN;
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) throw new Error(`bad literal ${texts[i]}`);
    out[2 * i] = lon;
    out[2 * i + 1] = lat;
  }
  return out;
}

export async function logicalTypeCast(env: BenchEnv): Promise<Figure[]> {
  // 200k values per round (figures are normalised per 1M): enough for stable timings without a 1M-row IPC per round.
  const n = env.smoke ? 1_000 : 200_000;
  const rounds = env.smoke ? 1 : 5;
  const texts = literals(n);
  const column = toIPC(new Table({ literal: vectorFromArray(texts, new Utf8()) }));
  const figures: Figure[] = [];
  for (const name of ["types-v1", "types-v2"] as ComponentName[]) {
    const bytes = await env.component(name);
    if (!bytes) continue;
    const instance = await component.ComponentInstance.instantiate(await component.ComponentModule.compile(bytes), {
      pluginId: `bench.${name}`,
      grants: new Set(),
    });
    const types = instance.logicalType as component.LogicalTypeClient;
    // Correctness, outside the timing: the plugin's storage and the TS parse agree.
    const storage = types.fromLiteral(NAME, column);
    checkAgainstTs(name, fromIPC(storage), parseTs(texts.slice(0, 100)));

    const parseMs: number[] = [];
    const castMs: number[] = [];
    const tsMs: number[] = [];
    const tsMs2: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      let t0 = now();
      const out = types.fromLiteral(NAME, column);
      const parse = now() - t0;
      t0 = now();
      const shown = types.castTo(NAME, out, "Utf8");
      const cast = now() - t0;
      if (fromIPC(shown).numRows !== n) throw new Error(`${name}: cast-to Utf8 returned the wrong row count`);
      t0 = now();
      parseTs(texts);
      const ts = now() - t0;
      t0 = now();
      parseTs(texts);
      const ts2 = now() - t0;
      if (r > 0) {
        parseMs.push((parse * 1e6) / n);
        castMs.push((cast * 1e6) / n);
        tsMs.push((ts * 1e6) / n);
        tsMs2.push((ts2 * 1e6) / n);
      }
      await tick();
    }
    instance.dispose();
    const tag = name.replace("types-", "");
    figures.push(
      figure({
        id: `types.from-literal.${tag}`,
        group: "5. logical-type cast",
        name: `${name} geo.point from-literal, ${n} WKT literals (Arrow IPC in and out)`,
        unit: "ms per 1M values",
        samples: parseMs,
        baseline: { name: "plain TS: regex parse of the same literals into a Float64Array", samples: tsMs },
        notes: "no goal set",
      }),
      figure({
        id: `types.cast-to.${tag}`,
        group: "5. logical-type cast",
        name: `${name} geo.point cast-to Utf8, ${n} values`,
        unit: "ms per 1M values",
        samples: castMs,
        baseline: { name: "plain TS parse (as above), for scale", samples: tsMs2 },
        notes: "no goal set",
      }),
    );
  }
  if (!figures.length) throw new Error("no types component is built");
  return figures;
}

function checkAgainstTs(name: string, storage: Table, want: Float64Array): void {
  const col = storage.getChildAt(0);
  for (let i = 0; i < want.length / 2; i++) {
    const v = col?.get(i) as { toArray?: () => ArrayLike<number> } | null;
    const pair = v?.toArray?.();
    if (pair?.length !== 2) throw new Error(`${name}: storage row ${i} is not a pair (got ${String(v)})`);
    const [a, b] = [pair[0] as number, pair[1] as number];
    const lonLat = Math.abs(a - (want[2 * i] as number)) < 1e-9 && Math.abs(b - (want[2 * i + 1] as number)) < 1e-9;
    const latLon = Math.abs(b - (want[2 * i] as number)) < 1e-9 && Math.abs(a - (want[2 * i + 1] as number)) < 1e-9;
    if (!lonLat && !latLon)
      throw new Error(`${name}: storage row ${i} is (${a}, ${b}), TS parsed (${want[2 * i]}, ${want[2 * i + 1]})`);
  }
}
