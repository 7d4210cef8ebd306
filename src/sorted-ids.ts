/**
 * @module sorted-ids
 * An ascending array of ids with binary search. UUID v7 ids sort by creation
 * time, so walking it backwards lists newest first, and a cursor is just the
 * last id a page returned: no whole-store scan or sort per request.
 */

/** Ids in ascending order. Appending a newer id is O(1); removal is a binary search plus a memmove. */
export class SortedIds {
  #ids: string[] = [];

  /** Number of ids held. */
  get size(): number {
    return this.#ids.length;
  }

  /**
   * Add an id, keeping the order (new ids are nearly always the largest).
   * @param id the id to add; must not be present
   */
  insert(id: string): void {
    const ids = this.#ids;
    if (ids.length === 0 || ids[ids.length - 1]! < id) {
      ids.push(id);
      return;
    }
    ids.splice(this.#lowerBound(id), 0, id);
  }

  /**
   * Remove an id if present.
   * @param id the id to remove
   */
  remove(id: string): void {
    const i = this.#lowerBound(id);
    if (this.#ids[i] === id) this.#ids.splice(i, 1);
  }

  /**
   * Iterate ids newest first, starting strictly below `before` when given.
   * @param before an exclusive upper bound (a paging cursor), or undefined for the newest
   */
  *descending(before?: string): Generator<string, void, undefined> {
    const ids = this.#ids;
    for (let i = (before === undefined ? ids.length : this.#lowerBound(before)) - 1; i >= 0; i--) {
      yield ids[i]!;
    }
  }

  /** Index of the first id >= `id`. */
  #lowerBound(id: string): number {
    const ids = this.#ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Merge several descending iterators into one descending stream (k-way merge),
 * for listing orders in several statuses at once.
 * @param sources descending iterators
 */
export function* mergeDescending(sources: readonly Iterator<string>[]): Generator<string, void, undefined> {
  const heads = sources.map((s) => s.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (!head.done && (best < 0 || head.value > (heads[best]!.value as string))) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as string;
    heads[best] = sources[best]!.next();
  }
}
