/**
 * Paced consumers of the tail on a live node: a slow one never holds up
 * writes, and still gets every event once, in order, reading back from the
 * node's history what it could not hold; a filter, and a handler that
 * fails and is offered the same batch again.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../src/domain/decide.ts';
import { Hub } from '../src/fanout/hub.ts';
import { LiveNode, MAX_HELD_EVENTS } from '../src/node.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import type { OrderEvent } from '../src/protocol.ts';
import { memoryStorage, type Storage } from '../src/store.ts';
import { captureLogger, waitFor } from './helpers.ts';

const AT = '2026-01-01T00:00:00.000Z';

/** Append `count` creates straight to the log; resolves once all are committed. */
async function appendCreates(storage: Storage, count: number): Promise<void> {
  const ids = createOrderIdGenerator();
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const decided = decide(undefined, { type: 'create', id: ids(), input: { customerName: `C${i}`, items: [{ name: 'x', quantity: 1 }] }, at: AT });
    assert.ok(decided.ok);
    appends.push(storage.log.append(decided.value));
  }
  await Promise.all(appends);
}

test('a consumer that does not return holds up neither writes nor the other consumers; once it goes on, it gets every event once, in order', async (t) => {
  const count = MAX_HELD_EVENTS + 2000;
  const storage = memoryStorage({ historyCapacity: 2 * count });
  const node = new LiveNode(storage, { historyCapacity: 2 * count, hub: new Hub(), logger: captureLogger().logger });
  t.after(() => node.stop());
  const seen: number[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const stop = await node.register({
    name: 'slow',
    handle: async (events: readonly OrderEvent[]) => {
      await released;
      seen.push(...events.map((e) => e.seq));
    },
  });
  t.after(stop);
  await appendCreates(storage, count);
  await waitFor(() => node.projection.seq === count, 'the projection has every event');
  assert.equal(node.history.latestSeq, count, 'the history took every event meanwhile');
  assert.equal(seen.length, 0, 'the consumer is still on its first batch');
  release();
  await waitFor(() => seen.length === count, 'the consumer has caught up', 60_000);
  assert.deepEqual(seen, Array.from({ length: count }, (_, i) => i + 1));
});

test('a filter picks the events a consumer is handed; a handler that fails is offered the same batch again', async (t) => {
  const storage = memoryStorage();
  const { logger, lines } = captureLogger();
  const node = new LiveNode(storage, { historyCapacity: 100, hub: new Hub(), logger });
  t.after(() => node.stop());
  const seen: number[] = [];
  let failures = 0;
  const stop = await node.register({
    name: 'picky',
    filter: (event) => event.seq % 2 === 0,
    handle: (events) => {
      if (failures++ === 0) throw new Error('first try fails');
      seen.push(...events.map((e) => e.seq));
    },
  });
  t.after(stop);
  await appendCreates(storage, 10);
  await waitFor(() => seen.at(-1) === 10, 'the even events');
  assert.deepEqual(seen, [2, 4, 6, 8, 10]);
  assert.ok(lines.some((l) => l.msg === 'an event consumer failed' && l.consumer === 'picky'));
  await assert.rejects(node.register({ name: 'picky', handle: () => undefined }), /registered already/);
  await assert.rejects(node.register({ name: 'no/slashes', handle: () => undefined }), RangeError);
});
