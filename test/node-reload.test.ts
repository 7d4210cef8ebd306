/**
 * A live node whose Redis history is lost (FLUSHALL) and recovered in
 * place, against a real `redis-server`: the node's one in-memory history
 * starts over from the new epoch, and a paced consumer is told that the
 * events of the old history are gone (onMissed, reason `epoch`) before it
 * is handed the new history's events, with its position saved in the new
 * epoch.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient } from 'redis';
import type { MissedEvents } from '../src/node.ts';
import type { OrderEvent } from '../src/protocol.ts';
import { openStorage } from '../src/store.ts';
import { captureLogger, postOrder, startServer, waitFor } from './helpers.ts';
import { redisRequirement, startRedis } from './redis-server.ts';

/** A short command deadline: recovery is noticed by the watchdog, not by a slow command. */
const DEADLINE_MS = 500;

const { skip } = redisRequirement();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe('a live node on a Redis history that was lost', { skip }, () => {
  test('the history and the paced consumers start over on the new epoch', { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.dispose());
    const { logger } = captureLogger();
    const storage = await openStorage({ mode: 'redis', redisUrl: redis.url, redisPrefix: 'reload', redisCommandTimeoutMs: DEADLINE_MS, logger });
    const srv = await startServer({ storage, logger });
    cleanups.push(() => srv.close());
    const { node } = srv.server;

    const handled: OrderEvent[] = [];
    const missed: MissedEvents[] = [];
    const stop = await node.register({ name: 'reload-watcher', durable: true, handle: (events) => void handled.push(...events), onMissed: (m) => void missed.push(m) });
    cleanups.push(stop);

    for (let i = 0; i < 3; i++) await postOrder(srv.base, `before ${i}`);
    await waitFor(() => handled.length === 3, 'the consumer had the three events of the first history');
    const lostEpoch = srv.server.epoch;
    assert.equal(node.position.seq, 3);

    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.sendCommand(['FLUSHALL']);
    } finally {
      admin.destroy();
    }
    await waitFor(() => srv.server.epoch !== lostEpoch && storage.log.health().ready, 'recovery in place onto a new epoch', 20_000);
    const epoch = srv.server.epoch;
    assert.deepEqual(node.position, { seq: 0, epoch });

    await waitFor(() => missed.length === 1, 'the consumer told that the old history is gone');
    assert.equal(missed[0]!.reason, 'epoch');
    assert.deepEqual(missed[0]!.from, { seq: 3, epoch: lostEpoch });
    assert.deepEqual(missed[0]!.resumedAt, { seq: 0, epoch });

    const created = await postOrder(srv.base, 'after the loss');
    await waitFor(() => handled.length === 4, 'the consumer had the first event of the new history');
    const first = handled[3]!;
    assert.equal(first.seq, 1);
    assert.equal(first.order.id, created.id);

    // The one in-memory history holds the new history only: the event at seq 1 is the new order's, not the old one's.
    const read = await node.read({ seq: 0, epoch }, 10);
    assert.notEqual(read, 'reset');
    assert.deepEqual((read as readonly OrderEvent[]).map((e) => [e.seq, e.order.id]), [[1, created.id]]);
    assert.equal(await node.read({ seq: 1, epoch: lostEpoch }, 10), 'reset');

    // The position is saved after the handler settles: wait for it, in the new epoch.
    const deadline = Date.now() + 10_000;
    let saved = await storage.positions.load('reload-watcher');
    while (saved?.seq !== 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      saved = await storage.positions.load('reload-watcher');
    }
    assert.deepEqual(saved, { seq: 1, epoch });
    assert.equal(missed.length, 1, 'told once');
  });
});
