/**
 * The demo's synthetic catalogue: rows with an id, a location literal (`POINT(lon lat)`, parsed later by the
 * geo.point plugin), a 64-dimension embedding clustered by category, a category and a starting like count.
 * Embeddings are centroid + noise, so a row's nearest neighbours share its category: the search panel makes
 * that visible.
 */
import { gaussian, seededRandom, yieldToBrowser } from "./random.ts";

export const CATEGORIES = ["books", "music", "films", "games", "sports", "food", "travel", "science"] as const;

/** City centres (lon, lat) the locations cluster around. */
const CITIES: readonly [string, number, number][] = [
  ["Berlin", 13.4, 52.52],
  ["Paris", 2.35, 48.86],
  ["London", -0.13, 51.51],
  ["Madrid", -3.7, 40.42],
  ["Rome", 12.5, 41.9],
  ["Warsaw", 21.01, 52.23],
  ["Stockholm", 18.07, 59.33],
  ["Vienna", 16.37, 48.21],
  ["Lisbon", -9.14, 38.72],
  ["Athens", 23.73, 37.98],
  ["Dublin", -6.26, 53.35],
  ["Prague", 14.42, 50.08],
];

export interface Dataset {
  readonly rows: number;
  readonly dim: number;
  readonly ids: BigInt64Array;
  /** rows × dim, row-major. */
  readonly vectors: Float32Array;
  /** Index into CATEGORIES per row. */
  readonly categories: Uint8Array;
  /** `POINT(lon lat)` per row: the only form the location has until the plugin parses it. */
  readonly literals: string[];
  readonly seedLikes: Int32Array;
  /** CATEGORIES.length × dim. */
  readonly centroids: Float32Array;
}

export interface GenerateOptions {
  rows: number;
  dim: number;
  seed: number;
  /** Rows per chunk between yields to the browser. */
  chunk?: number;
  onProgress?: (done: number) => void;
}

export async function generateDataset(options: GenerateOptions): Promise<Dataset> {
  const { rows, dim, seed } = options;
  const chunk = options.chunk ?? 10_000;
  const uniform = seededRandom(seed);
  const normal = gaussian(uniform);
  const centroids = Float32Array.from({ length: CATEGORIES.length * dim }, () => normal());
  const ids = new BigInt64Array(rows);
  const vectors = new Float32Array(rows * dim);
  const categories = new Uint8Array(rows);
  const literals = new Array<string>(rows);
  const seedLikes = new Int32Array(rows);
  for (let start = 0; start < rows; start += chunk) {
    const end = Math.min(rows, start + chunk);
    for (let i = start; i < end; i++) {
      ids[i] = BigInt(i);
      const c = Math.floor(uniform() * CATEGORIES.length);
      categories[i] = c;
      for (let d = 0; d < dim; d++) vectors[i * dim + d] = (centroids[c * dim + d] as number) + 0.35 * normal();
      // Each category lives mostly in "its" city, so the map shows coloured clusters.
      const city = uniform() < 0.7 ? c : Math.floor(uniform() * CITIES.length);
      const [, lon, lat] = CITIES[city] as [string, number, number];
      literals[i] = `POINT(${(lon + 0.6 * normal()).toFixed(4)} ${(lat + 0.4 * normal()).toFixed(4)})`;
      seedLikes[i] = Math.floor(uniform() * 50);
    }
    options.onProgress?.(end);
    await yieldToBrowser();
  }
  return { rows, dim, ids, vectors, categories, literals, seedLikes, centroids };
}

/** One row's embedding (a view, not a copy). */
export function embeddingOf(data: Dataset, row: number): Float32Array {
  return data.vectors.subarray(row * data.dim, (row + 1) * data.dim);
}

export function centroidOf(data: Dataset, category: number): Float32Array {
  return data.centroids.subarray(category * data.dim, (category + 1) * data.dim);
}
