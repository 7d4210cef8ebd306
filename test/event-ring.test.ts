/** The event ring behind resume: exact replay inside the window, undefined outside it. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventRing } from '../src/store/event-ring.ts';
import type { OrderEvent } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';

const event = (seq: number): OrderEvent => ({ type: 'order.created', seq, order: SAMPLE_ORDER });

test('replays exactly the events after a seq while the buffer holds them', () => {
  const log = new EventRing(5);
  assert.deepEqual(log.since(0), []);
  for (let seq = 1; seq <= 8; seq++) log.append(event(seq));
  assert.equal(log.oldestSeq, 4);
  assert.equal(log.latestSeq, 8);
  assert.deepEqual(log.since(3)?.map((e) => e.seq), [4, 5, 6, 7, 8]);
  assert.deepEqual(log.since(6)?.map((e) => e.seq), [7, 8]);
  assert.deepEqual(log.since(8), []);
  assert.equal(log.since(2), undefined, 'seq 3 was evicted: the client must reset');
  assert.equal(log.since(9), undefined, 'a seq from the future (another server run) must reset');
  assert.equal(log.since(-1), undefined);
  assert.equal(log.since(1.5), undefined);
});

test('refuses a gap in seqs and a silly capacity', () => {
  const log = new EventRing(3);
  log.append(event(1));
  assert.throws(() => log.append(event(3)), /expected seq 2/);
  assert.throws(() => new EventRing(0), RangeError);
});

test('a ring started after seq 40 resumes a client at 40 with nothing, and refuses one further back', () => {
  const ring = new EventRing(3, 40);
  assert.deepEqual(ring.since(40), []);
  assert.equal(ring.since(39), undefined);
  assert.throws(() => ring.append(event(1)), /expected seq 41/);
  ring.append(event(41));
  ring.append(event(42));
  assert.deepEqual(ring.since(40)?.map((e) => e.seq), [41, 42]);
  assert.deepEqual(ring.since(40, 1)?.map((e) => e.seq), [41], 'at most the limit, oldest first');
});
