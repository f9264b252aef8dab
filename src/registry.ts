/**
 * Per-surface tables from registry key (index kind, CDC output, CRDT kind,
 * logical-type name) to the plugin that provides it. Keys are global. Every
 * change is all-or-nothing: it is checked in full before anything is written.
 *
 * @module
 */
import { ErrorCode, RegistryError } from "./errors.ts";
import { declared, type Manifest, SURFACES, type Surface } from "./manifest.ts";

/** What a registry entry points at: anything with a manifest (a loaded plugin). */
export interface Registrant {
  readonly manifest: Manifest;
}

export class Registry<P extends Registrant> {
  readonly #tables = new Map<Surface, Map<string, P>>(SURFACES.map((s) => [s, new Map()]));

  /** The plugin that provides `key` on `surface`, if any. */
  lookup(surface: Surface, key: string): P | undefined {
    return this.#tables.get(surface)?.get(key);
  }

  /** Every key registered on `surface`. */
  keys(surface: Surface): string[] {
    return [...(this.#tables.get(surface)?.keys() ?? [])];
  }

  /** The keys `plugin` holds, per surface. */
  footprint(plugin: P): Record<Surface, string[]> {
    const out = {} as Record<Surface, string[]>;
    for (const s of SURFACES) {
      out[s] = [...(this.#tables.get(s)?.entries() ?? [])].filter(([, p]) => p === plugin).map(([k]) => k);
    }
    return out;
  }

  /** Registers everything `plugin` declares; a key held by another plugin fails the whole add. */
  add(plugin: P): void {
    this.replace(undefined, plugin);
  }

  /** Removes every key `plugin` holds. */
  remove(plugin: P): void {
    for (const table of this.#tables.values()) {
      for (const [key, p] of table) if (p === plugin) table.delete(key);
    }
  }

  /**
   * Atomically swaps `previous` (may be undefined) for `next`: afterwards no key
   * points at `previous`, and every key `next` declares points at `next`.
   */
  replace(previous: P | undefined, next: P): void {
    this.check(previous, next);
    if (previous) this.remove(previous);
    for (const surface of SURFACES) {
      const table = this.#tables.get(surface) as Map<string, P>;
      for (const key of declared(next.manifest, surface)) table.set(key, next);
    }
  }

  /** Throws what {@link replace} would throw, changing nothing. */
  check(previous: P | undefined, next: P): void {
    for (const surface of SURFACES) {
      const table = this.#tables.get(surface) as Map<string, P>;
      for (const key of declared(next.manifest, surface)) {
        const holder = table.get(key);
        if (holder !== undefined && holder !== previous) {
          throw new RegistryError(
            ErrorCode.DuplicateKey,
            `${surface} "${key}" is already provided by ${holder.manifest.id}@${holder.manifest.version}; ` +
              `${next.manifest.id}@${next.manifest.version} cannot register it`,
            { pluginId: next.manifest.id },
          );
        }
      }
    }
  }
}
