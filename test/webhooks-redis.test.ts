/**
 * Webhooks with STORAGE=redis: not built for several instances yet (no
 * shared endpoints, no lease), so the routes say so instead of letting
 * each instance keep its own endpoints and send every event again.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openStorage } from '../src/store.ts';
import { captureLogger, request, startServer } from './helpers.ts';
import { redisRequirement, startRedis } from './redis-server.ts';

const { skip } = redisRequirement();

describe('webhooks on Redis', { skip }, () => {
  test('the routes answer 404 with the reason, and nothing is created', async () => {
    const redis = await startRedis();
    after(() => redis.dispose());
    const storage = await openStorage({ mode: 'redis', redisUrl: redis.url, redisPrefix: 'hooks', logger: captureLogger().logger, onSinkError: () => undefined });
    const srv = await startServer({ storage });
    after(() => srv.close());
    const created = await request(srv.base, 'POST', '/api/webhooks', { url: 'https://example.com/hooks' });
    assert.equal(created.status, 404);
    assert.match((created.body as { detail: string }).detail, /not available with STORAGE=redis/);
    const listed = await request(srv.base, 'GET', '/api/webhooks');
    assert.equal(listed.status, 404);
  });
});
