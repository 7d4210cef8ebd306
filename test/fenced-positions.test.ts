/**
 * The lease holder's fenced positions against a real redis-server: a
 * delete, like a save, is made only while the lease still holds the
 * holder's token; an instance that lost the lease gets LeaseLostError and
 * the position its successor works from stays.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FencedPositions, LeaseLostError } from '../src/notify/lease.ts';
import { openStorage } from '../src/store.ts';
import { captureLogger } from './helpers.ts';
import { redisRequirement, startRedis } from './redis-server.ts';

const { skip } = redisRequirement();

describe('fenced positions', { skip }, () => {
  test('a delete is made only while the lease holds the holder\'s token', async (t) => {
    const redis = await startRedis();
    const storage = await openStorage({ mode: 'redis', redisUrl: redis.url, redisPrefix: 'fenced', logger: captureLogger().logger, onSinkError: () => undefined });
    t.after(async () => {
      await storage.log.close();
      await redis.dispose();
    });
    const side = storage.sideKeys!;
    const leaseKey = side.key('lease:test');
    const at = { seq: 4, epoch: storage.log.epoch };
    assert.equal(await side.send(['SET', leaseKey, 'current-token']), 'OK');
    const holder = new FencedPositions(side, leaseKey, 'current-token', storage.positions);
    const former = new FencedPositions(side, leaseKey, 'former-token', storage.positions);

    await holder.save('fenced-consumer', at);
    await assert.rejects(former.delete('fenced-consumer'), LeaseLostError);
    assert.deepEqual(await storage.positions.load('fenced-consumer'), at, 'a holder that lost the lease deletes nothing');
    await holder.delete('fenced-consumer');
    assert.equal(await storage.positions.load('fenced-consumer'), undefined, 'the holder deletes');
    await holder.delete('never-saved');
    await assert.rejects(holder.delete('../x'), RangeError);
  });
});
