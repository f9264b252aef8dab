/**
 * One instance's table of handles for one exported resource type
 * (`index-handle`, `cdc-stream`, `crdt-state`): handle ↔ rep, as the
 * `[resource-new]` / `[resource-rep]` / `[resource-drop]` intrinsics see it,
 * plus the host-side object that owns each handle so `dispose()` can drop them all.
 *
 * @module
 */

/** A host-side object owning one handle. `release()` marks it dropped without calling the guest. */
export interface HandleOwner {
  release(): void;
}

export class ResourceTable {
  /** Index = handle (0 is never used), value = rep; 0 marks a free slot. */
  private readonly reps: number[] = [0];
  private readonly owners: (HandleOwner | undefined)[] = [undefined];
  private readonly free: number[] = [];
  private live = 0;

  constructor(readonly resource: string) {}

  /** `[resource-new]`: the guest hands over a rep, gets a handle. */
  add(rep: number): number {
    if (rep === 0) throw new Error(`[resource-new]${this.resource}: rep 0 is not a valid representation`);
    const handle = this.free.pop() ?? this.reps.length;
    this.reps[handle] = rep;
    this.owners[handle] = undefined;
    this.live++;
    return handle;
  }

  /** `[resource-rep]`, and the host reading a returned handle. Throws (→ trap) on a bad handle. */
  rep(handle: number): number {
    const rep = this.reps[handle];
    if (rep === undefined || rep === 0 || handle === 0) {
      throw new Error(`${this.resource}: unknown handle ${handle}`);
    }
    return rep;
  }

  /** Binds the host object that owns `handle`. */
  own(handle: number, owner: HandleOwner): void {
    this.owners[handle] = owner;
  }

  /** Forgets `handle` and returns its rep (the caller runs the destructor). */
  remove(handle: number): number {
    const rep = this.rep(handle);
    const owner = this.owners[handle];
    this.reps[handle] = 0;
    this.owners[handle] = undefined;
    this.free.push(handle);
    this.live--;
    owner?.release();
    return rep;
  }

  /** Live handles, for dispose(). */
  handles(): number[] {
    const out: number[] = [];
    for (let h = 1; h < this.reps.length; h++) if (this.reps[h] !== 0) out.push(h);
    return out;
  }

  get size(): number {
    return this.live;
  }
}
