/**
 * @module node/sorted-ids
 * Ids in ascending order with binary search. UUID v7 ids sort by creation
 * time, so walking them backwards lists newest first, and a cursor is just the
 * last id a page returned: no whole-store scan or sort per request.
 *
 * The ids are kept in blocks of at most {@link DEFAULT_MAX_BLOCK} (a sorted
 * list of sorted lists), because a status change removes an id from one index
 * and inserts it into another, usually in the middle: in one flat array each
 * of those moves every later id, so a change costs time in proportion to the
 * store's size; in blocks it moves at most one block's worth.
 */

/** Ids per block before it is split in two; a block below a quarter of this is merged with a neighbour. */
export const DEFAULT_MAX_BLOCK = 1024;

/** Ids in ascending order. Insert and remove cost O(log n + block size); listing from a cursor costs O(log n) to start. */
export class SortedIds {
  /** Non-empty ascending blocks; every id in a block is below every id in the next one. */
  readonly #blocks: string[][] = [];
  /** The largest (last) id of each block, to find a block by binary search. */
  readonly #maxes: string[] = [];
  readonly #maxBlock: number;
  #size = 0;

  /** @param maxBlock ids per block before a split (tests use small blocks to exercise splits and merges) */
  constructor(maxBlock: number = DEFAULT_MAX_BLOCK) {
    if (!Number.isInteger(maxBlock) || maxBlock < 4) throw new RangeError(`maxBlock must be an integer >= 4, got ${maxBlock}`);
    this.#maxBlock = maxBlock;
  }

  /** Number of ids held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Add an id, keeping the order (new ids are nearly always the largest).
   * @param id the id to add; must not be present
   */
  insert(id: string): void {
    const blocks = this.#blocks;
    const maxes = this.#maxes;
    this.#size++;
    if (blocks.length === 0) {
      blocks.push([id]);
      maxes.push(id);
      return;
    }
    const last = blocks.length - 1;
    if (maxes[last]! < id) {
      // Larger than every id held: the usual case, a new order.
      blocks[last]!.push(id);
      maxes[last] = id;
      if (blocks[last]!.length > this.#maxBlock) this.#split(last);
      return;
    }
    const b = lowerBound(maxes, id);
    const block = blocks[b]!;
    block.splice(lowerBound(block, id), 0, id);
    if (block.length > this.#maxBlock) this.#split(b);
  }

  /**
   * Remove an id if present.
   * @param id the id to remove
   */
  remove(id: string): void {
    const maxes = this.#maxes;
    const b = lowerBound(maxes, id);
    if (b === maxes.length) return;
    const block = this.#blocks[b]!;
    const i = lowerBound(block, id);
    if (block[i] !== id) return;
    this.#size--;
    block.splice(i, 1);
    if (block.length === 0) {
      this.#blocks.splice(b, 1);
      maxes.splice(b, 1);
      return;
    }
    if (i === block.length) maxes[b] = block[i - 1]!;
    if (block.length < this.#maxBlock >>> 2 && this.#blocks.length > 1) this.#mergeWithNeighbour(b);
  }

  /**
   * Iterate ids newest first, starting strictly below `before` when given.
   * @param before an exclusive upper bound (a paging cursor), or undefined for the newest
   */
  *descending(before?: string): Generator<string, void, undefined> {
    const blocks = this.#blocks;
    // The block holding the first id >= `before`; start just below it there. Without one, start at the very end.
    let b = before === undefined ? blocks.length : lowerBound(this.#maxes, before);
    let i: number;
    if (b < blocks.length) {
      i = lowerBound(blocks[b]!, before!) - 1;
    } else {
      b = blocks.length - 1;
      i = b >= 0 ? blocks[b]!.length - 1 : -1;
    }
    while (b >= 0) {
      const block = blocks[b]!;
      for (; i >= 0; i--) yield block[i]!;
      b--;
      if (b >= 0) i = blocks[b]!.length - 1;
    }
  }

  /** Split block `b` into two halves. */
  #split(b: number): void {
    const left = this.#blocks[b]!;
    const right = left.splice(left.length >>> 1);
    this.#maxes[b] = left[left.length - 1]!;
    this.#blocks.splice(b + 1, 0, right);
    this.#maxes.splice(b + 1, 0, right[right.length - 1]!);
  }

  /** Join small block `b` with the block before it (or after it, for the first), splitting again if too big. */
  #mergeWithNeighbour(b: number): void {
    const first = b > 0 ? b - 1 : b;
    const merged = this.#blocks[first]!.concat(this.#blocks[first + 1]!);
    this.#blocks.splice(first, 2, merged);
    this.#maxes.splice(first, 2, merged[merged.length - 1]!);
    if (merged.length > this.#maxBlock) this.#split(first);
  }
}

/** Index of the first id >= `id` in an ascending array. */
function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
