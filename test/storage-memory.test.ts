/** The conformance suite against the memory backend, and what only the memory backend promises. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../src/domain/decide.ts';
import { MemoryLog, memoryStorage } from '../src/store.ts';
import { describeStorage } from './storage-conformance.ts';

describeStorage('memory', {
  open: () => Promise.resolve(memoryStorage()),
  // Another instance on the same log starts empty at seq 0 and catches up from the log's history.
  openAnother: (storage) => Promise.resolve({ ...storage, initial: { orders: [], position: { seq: 0, epoch: storage.log.epoch } } }),
});

test('memory: every process is a new epoch, so its clients resume with a reset', () => {
  assert.notEqual(memoryStorage().log.epoch, memoryStorage().log.epoch);
});

test('memory: idempotency keys expire after their time', async () => {
  let now = 1_000_000;
  const log = new MemoryLog({ now: () => now });
  const decided = decide(undefined, { type: 'create', id: '01a20001-9c5d-7309-a00f-d6f94e819b3b', input: { customerName: 'A', items: [{ name: 'x', quantity: 1 }] }, at: '2026-01-01T00:00:00.000Z' });
  assert.ok(decided.ok);
  await log.append(decided.value, { key: 'k', fingerprint: 'f', expiresAt: now + 1000 });
  assert.equal((await log.findIdempotent('k'))?.seq, 1);
  now += 1000;
  assert.equal(await log.findIdempotent('k'), undefined);
});

test('memory: history beyond its capacity is a reset for replays, and refused for late tails', async () => {
  const log = new MemoryLog({ historyCapacity: 3 });
  for (let i = 0; i < 5; i++) {
    const decided = decide(undefined, { type: 'create', id: `01a20001-9c5d-7309-a00f-d6f94e81900${i}`, input: { customerName: 'A', items: [{ name: 'x', quantity: 1 }] }, at: '2026-01-01T00:00:00.000Z' });
    assert.ok(decided.ok);
    await log.append(decided.value);
  }
  assert.equal(await log.replay({ seq: 1, epoch: log.epoch }, 10), 'reset');
  assert.throws(() => log.tail(1, () => undefined), RangeError);
});
