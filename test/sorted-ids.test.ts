/** The blocked sorted id list behind the store's indexes, checked against a plain sorted array. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SortedIds, mergeDescending } from '../src/node/sorted-ids.ts';

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const id = (n: number): string => `id-${String(n).padStart(6, '0')}`;

/** Every page of `ids` newest first, `limit` at a time, each page starting below the previous page's last id. */
function pages(ids: SortedIds, limit: number): string[][] {
  const result: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page: string[] = [];
    for (const value of ids.descending(before)) {
      page.push(value);
      if (page.length === limit) break;
    }
    if (page.length === 0) return result;
    result.push(page);
    before = page[page.length - 1];
  }
}

describe('sorted ids', () => {
  test('random inserts and removes keep the same order, size and pages as a sorted array, across block splits and merges', () => {
    for (const maxBlock of [4, 8, 16, 1024]) {
      const next = random(maxBlock);
      const ids = new SortedIds(maxBlock);
      const reference = new Set<string>();
      for (let step = 0; step < 4000; step++) {
        const value = id(Math.floor(next() * 1500));
        // Grow for the first half, then mostly shrink, so blocks both split and merge.
        const grow = step < 2000 ? next() < 0.7 : next() < 0.3;
        if (grow && !reference.has(value)) {
          ids.insert(value);
          reference.add(value);
        } else {
          ids.remove(value);
          reference.delete(value);
        }
        if (step % 250 === 0 || step === 3999) {
          const expected = [...reference].sort().reverse();
          assert.equal(ids.size, reference.size, `size at step ${step}, maxBlock ${maxBlock}`);
          assert.deepEqual([...ids.descending()], expected, `order at step ${step}, maxBlock ${maxBlock}`);
          assert.deepEqual(pages(ids, 7).flat(), expected, `paged at step ${step}, maxBlock ${maxBlock}`);
        }
      }
    }
  });

  test('emptying from either end merges the shrinking end block into its neighbour', () => {
    for (const fromTop of [true, false]) {
      const ids = new SortedIds(8);
      const held = Array.from({ length: 100 }, (_, n) => id(n));
      for (const value of held) ids.insert(value);
      while (held.length > 0) {
        ids.remove(fromTop ? held.pop()! : held.shift()!);
        assert.deepEqual([...ids.descending()], [...held].reverse(), `${held.length} left, removing from the ${fromTop ? 'top' : 'bottom'}`);
      }
    }
  });

  test('a cursor need not be held: listing starts strictly below it wherever it falls', () => {
    const ids = new SortedIds(4);
    for (let n = 0; n < 40; n += 2) ids.insert(id(n)); // even numbers only, over several blocks
    assert.deepEqual([...ids.descending(id(7))].slice(0, 3), [id(6), id(4), id(2)], 'absent cursor');
    assert.deepEqual([...ids.descending(id(8))].slice(0, 2), [id(6), id(4)], 'held cursor is excluded');
    assert.deepEqual([...ids.descending(id(99))].slice(0, 1), [id(38)], 'above every id');
    assert.deepEqual([...ids.descending(id(0))], [], 'at the smallest id');
    assert.deepEqual([...ids.descending('')], [], 'below every id');
  });

  test('new ids arrive in order and old ones are inserted in place; removing absent ids changes nothing', () => {
    const ids = new SortedIds(4);
    assert.deepEqual([...ids.descending()], []);
    ids.remove(id(1));
    for (const n of [10, 20, 30, 40, 50, 60, 5, 25, 65]) ids.insert(id(n));
    ids.remove(id(26));
    ids.remove(id(99));
    assert.equal(ids.size, 9);
    assert.deepEqual([...ids.descending()], [65, 60, 50, 40, 30, 25, 20, 10, 5].map(id));
    for (const n of [65, 60, 50, 40, 30, 25, 20, 10]) ids.remove(id(n));
    assert.deepEqual([...ids.descending()], [id(5)]);
    ids.remove(id(5));
    assert.equal(ids.size, 0);
    assert.deepEqual([...ids.descending()], []);
    ids.insert(id(3));
    assert.deepEqual([...ids.descending()], [id(3)], 'usable again after being emptied');
  });

  test('block sizes below 4 are refused', () => {
    assert.throws(() => new SortedIds(3), RangeError);
    assert.throws(() => new SortedIds(4.5), RangeError);
  });

  test('mergeDescending interleaves several descending lists into one', () => {
    const a = new SortedIds(4);
    const b = new SortedIds(4);
    for (let n = 0; n < 30; n++) (n % 3 === 0 ? a : b).insert(id(n));
    const merged = [...mergeDescending([a.descending(), b.descending()])];
    assert.deepEqual(merged, Array.from({ length: 30 }, (_, n) => id(29 - n)));
  });
});
