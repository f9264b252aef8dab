/**
 * Liveness without trusting clocks across machines: a record is alive while its versionstamp keeps changing, as
 * this process observes it. Each reader notes when it first saw each versionstamp (on its own monotonic clock); a
 * record whose versionstamp has not changed for a TTL is stale. Node heartbeats and CDC leases both work this way,
 * so a node's clock being off never makes another node look dead or a lease look free.
 *
 * @module
 */

export class Staleness {
  readonly #seen = new Map<string, { versionstamp: string; since: number }>();

  /** Notes the versionstamp read for `id`; returns how long (ms) it has been unchanged, as this process saw it. */
  observe(id: string, versionstamp: string): number {
    const now = performance.now();
    const seen = this.#seen.get(id);
    if (!seen || seen.versionstamp !== versionstamp) {
      this.#seen.set(id, { versionstamp, since: now });
      return 0;
    }
    return now - seen.since;
  }

  /** How long `id` has been unchanged, or undefined if never observed. */
  age(id: string): number | undefined {
    const seen = this.#seen.get(id);
    return seen ? performance.now() - seen.since : undefined;
  }

  forget(id: string): void {
    this.#seen.delete(id);
  }
}
