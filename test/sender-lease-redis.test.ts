/**
 * The sender lease on a real redis-server, when its holder cannot renew
 * in time: a busy event loop past the lease time, or a Redis that stops
 * answering (SIGSTOP). The holder counts the lease lost by its own clock,
 * before the renewal answers (or times out), so it stops sending before a
 * successor can start; the positions it was given no longer save; once
 * Redis answers again the lease is taken again.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { LeaseLostError, SenderLease } from '../src/notify/lease.ts';
import type { ConsumerPositions, Storage } from '../src/store/ports.ts';
import { openStorage } from '../src/store.ts';
import { captureLogger, waitFor } from './helpers.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';

const { skip } = redisRequirement();
const redis: RedisProcess | undefined = skip === false ? await startRedis() : undefined;
const storages: Storage[] = [];
after(async () => {
  redis?.resume();
  await Promise.all(storages.map((storage) => storage.log.close().catch(() => undefined)));
  await redis?.dispose();
});

/** The command deadline of these instances, in milliseconds: a renewal waits this long for a silent Redis. */
const COMMAND_TIMEOUT_MS = 5000;

/** An instance's storage on the shared Redis. */
async function open(prefix: string): Promise<Storage> {
  const storage = await openStorage({ mode: 'redis', redisUrl: redis!.url, redisPrefix: prefix, redisCommandTimeoutMs: COMMAND_TIMEOUT_MS, logger: captureLogger().logger, onSinkError: () => undefined });
  storages.push(storage);
  return storage;
}

/** A lease on a storage, and what it was told. */
function leaseOn(storage: Storage, ttlMs: number): { lease: SenderLease; acquired: ConsumerPositions[]; lost: number[] } {
  const acquired: ConsumerPositions[] = [];
  const lost: number[] = [];
  const lease = new SenderLease({
    side: storage.sideKeys!,
    positions: storage.positions,
    name: 'lease-test',
    logger: captureLogger().logger,
    ttlMs,
    onAcquired: (positions) => {
      acquired.push(positions);
      return Promise.resolve();
    },
    onLost: () => {
      lost.push(Date.now());
      return Promise.resolve();
    },
  });
  return { lease, acquired, lost };
}

const position = { seq: 1, epoch: 'e' };

describe('sender lease on Redis', { skip }, () => {
  test('an event loop busy past the lease time: the holder is no longer held at once, its positions no longer save, and it is told', async () => {
    const ttlMs = 600;
    const a = leaseOn(await open('lease-busy'), ttlMs);
    const b = leaseOn(await open('lease-busy'), ttlMs);
    a.lease.start();
    await waitFor(() => a.acquired.length === 1, 'A to take the lease');
    b.lease.start();
    try {
      await a.acquired[0]!.save('lease-test', position);
      assert.equal(a.lease.held, true);
      // Busy for longer than the lease lasts: no timer or renewal runs meanwhile.
      const until = Date.now() + ttlMs + 400;
      while (Date.now() < until);
      assert.equal(a.lease.held, false, 'counted lost before any renewal or timer ran');
      await waitFor(() => a.lost.length === 1, 'A to be told it lost the lease', 10_000);
      await waitFor(() => a.acquired.length + b.acquired.length === 2, 'the lease to be taken again', 10_000);
      await assert.rejects(a.acquired[0]!.save('lease-test', position), LeaseLostError, 'the first holder can no longer move the position');
    } finally {
      await Promise.all([a.lease.stop(), b.lease.stop()]);
    }
  });

  test('Redis stops answering (SIGSTOP): the holder counts the lease lost within the lease time, not after the command deadline; taken again after SIGCONT', { timeout: 60_000 }, async () => {
    const ttlMs = 1500;
    const a = leaseOn(await open('lease-stop'), ttlMs);
    a.lease.start();
    await waitFor(() => a.acquired.length === 1, 'A to take the lease');
    let resumed = false;
    try {
      redis!.suspend();
      const stoppedAt = Date.now();
      await waitFor(() => a.lost.length === 1, 'A to count the lease lost while Redis is silent', COMMAND_TIMEOUT_MS * 2);
      const lostAfterMs = a.lost[0]! - stoppedAt;
      console.log(`sender lease: counted lost ${lostAfterMs} ms after Redis stopped answering (lease ${ttlMs} ms)`);
      assert.ok(lostAfterMs < ttlMs + 1000, `counted lost ${lostAfterMs} ms after Redis stopped: within the lease time, well before the ${COMMAND_TIMEOUT_MS} ms deadline`);
      assert.equal(a.lease.held, false);
      redis!.resume();
      resumed = true;
      await waitFor(() => a.acquired.length === 2, 'the lease to be taken again once Redis answers', 20_000);
      assert.equal(a.lease.held, true);
      await assert.rejects(a.acquired[0]!.save('lease-test', position), LeaseLostError, 'the positions of the lost lease no longer save');
      await a.acquired[1]!.save('lease-test', position);
    } finally {
      if (!resumed) redis!.resume();
      await a.lease.stop();
    }
  });
});
