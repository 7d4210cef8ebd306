/** The cache of what connecting clients are sent: reuse while the seq holds, and bounds on entries and bytes. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectCache } from '../src/fanout/connect-cache.ts';

/** A build function that counts its calls. */
function counted(text: string): { build: () => string; calls: () => number } {
  let calls = 0;
  return {
    build: () => {
      calls++;
      return text;
    },
    calls: () => calls,
  };
}

test('a message is built once per key and seq, and again when the seq moves', () => {
  const cache = new ConnectCache();
  const snapshot = counted('{"type":"snapshot"}');
  const first = cache.get('view', 7, snapshot.build);
  assert.strictEqual(cache.get('view', 7, snapshot.build), first);
  assert.equal(snapshot.calls(), 1);
  assert.deepEqual([...first.frame!.subarray(0, 2)], [0x81, first.payload.length], 'a text frame around the payload');
  assert.notStrictEqual(cache.get('view', 8, snapshot.build), first);
  assert.equal(snapshot.calls(), 2);
});

test('past 64 keys the oldest is forgotten', () => {
  const cache = new ConnectCache();
  const builds = Array.from({ length: 65 }, (_, i) => counted(`{"n":${i}}`));
  builds.forEach((b, i) => cache.get(`key ${i}`, 1, b.build));
  cache.get('key 64', 1, builds[64]!.build);
  assert.equal(builds[64]!.calls(), 1, 'the newest is kept');
  cache.get('key 0', 1, builds[0]!.build);
  assert.equal(builds[0]!.calls(), 2, 'the oldest was forgotten');
});

test('a message over a quarter of the byte budget is sent but not kept, and big ones push out old ones', () => {
  const cache = new ConnectCache();
  const huge = counted(`"${'x'.repeat(5 * 1024 * 1024)}"`); // 10 MiB with its frame: over 8 MiB
  cache.get('huge', 1, huge.build);
  cache.get('huge', 1, huge.build);
  assert.equal(huge.calls(), 2);
  const small = counted('{}');
  cache.get('small', 1, small.build);
  const big = Array.from({ length: 9 }, () => counted(`"${'y'.repeat(2 * 1024 * 1024)}"`)); // 4 MiB each: 36 MiB in all
  big.forEach((b, i) => cache.get(`big ${i}`, 1, b.build));
  cache.get('small', 1, small.build);
  assert.equal(small.calls(), 2, 'forgotten to stay within 32 MiB');
  cache.get('big 8', 1, big[8]!.build);
  assert.equal(big[8]!.calls(), 1, 'the newest is kept');
});
