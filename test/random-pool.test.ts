/** The random pool: every byte handed out once, refills when a draw would not fit. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomPool } from '../src/node/random-pool.ts';

test('draws across several refills are all different', () => {
  const pool = new RandomPool(64);
  // 16-byte draws from a 64-byte pool: four per refill, 250 refills.
  const seen = new Set(Array.from({ length: 1000 }, () => Buffer.from(pool.bytes(16)).toString('hex')));
  assert.equal(seen.size, 1000);
});

test('a draw that does not fit in what is left starts a fresh pool', () => {
  const pool = new RandomPool(32);
  const first = Buffer.from(pool.bytes(20));
  const second = Buffer.from(pool.bytes(20)); // only 12 left: refill
  assert.equal(first.length, 20);
  assert.equal(second.length, 20);
  assert.notDeepEqual(first, second);
  assert.throws(() => pool.bytes(33), RangeError);
});
