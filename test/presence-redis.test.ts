/**
 * Presence across instances on one Redis, as real processes: watchers on
 * different instances (a tracking socket on one, a board socket that sent
 * `watch` on another) are summed by `GET /api/orders/ID/presence` on any
 * instance (`scope: cluster`); a closed watcher stops counting everywhere;
 * an instance killed with `kill -9` stops counting within a few seconds (its
 * alive key runs out), and one shut down politely stops at once. With
 * Redis away an instance answers its own counts (`scope: instance`), and
 * once Redis is back the sum comes back.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { CreatedOrder, PresenceAnswer, PresenceCounts } from '../src/protocol.ts';
import { PRESENCE_ALIVE_TTL_MS } from '../src/transport/ws/shared-presence.ts';
import { TestClient, orderBody, request } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';

const { skip } = redisRequirement();
const redis: RedisProcess | undefined = skip === false ? await startRedis() : undefined;
const instances: StartedProcess[] = [];
const clients: TestClient[] = [];
after(async () => {
  for (const client of clients) client.ws.terminate();
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.exited));
  await redis?.dispose();
});

const counts = (c: Partial<PresenceCounts>): PresenceCounts => ({ admin: 0, operator: 0, viewer: 0, customer: 0, ...c });

/** A socket that got its snapshot. */
async function open(url: string): Promise<TestClient> {
  const client = new TestClient(url);
  clients.push(client);
  await client.opened();
  await client.next('snapshot');
  return client;
}

/**
 * Send `watch`, then a ping: messages are handled in order, so the pong means the watch was. An order made on
 * another instance a moment ago may not have reached this one's tail yet (the watch is then refused as unknown):
 * try again until it is taken, and fail if it never is.
 */
async function watch(client: TestClient, orderId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let attempt = 0; ; attempt++) {
    const id = `watch-${orderId}-${attempt}`;
    const before = client.received.length;
    client.send({ type: 'watch', orderId });
    client.send({ type: 'ping', id });
    await client.until(() => client.received.some((m) => m.type === 'pong' && m.id === id), 'the pong after watch');
    const refused = client.received.slice(before).some((m) => m.type === 'error');
    if (!refused) return;
    assert.ok(Date.now() < deadline, `the watch of ${orderId} is still refused`);
    await delay(50);
  }
}

async function presence(base: string, orderId: string): Promise<PresenceAnswer> {
  const res = await request(base, 'GET', `/api/orders/${orderId}/presence`);
  assert.equal(res.status, 200, res.text);
  return res.body as PresenceAnswer;
}

/** Poll until `check` holds. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not in time: ${what}`);
    await delay(50);
  }
}

/** Poll until `base` answers `expected` for every instance (`scope: cluster`); resolves with how long it took. */
async function presenceBecomes(base: string, orderId: string, expected: PresenceCounts, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { scope, watching } = await presence(base, orderId);
    if (scope === 'cluster' && isDeepStrictEqual(watching, expected)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) assert.deepEqual({ scope, watching }, { scope: 'cluster', watching: expected }, `the counts on ${base} in time`);
    await delay(50);
  }
}

describe('presence across instances on one Redis', { skip }, () => {
  test('every instance answers the sum; a closed watcher, a killed instance and a stopped one stop counting', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'presence' };
    const started = await Promise.all([0, 1, 2].map(() => startInstance(env)));
    instances.push(...started);
    const [a, b, c] = started as [StartedProcess, StartedProcess, StartedProcess];
    const created = await request(a.base, 'POST', '/api/orders', orderBody('Watched'));
    assert.equal(created.status, 201, created.text);
    const order = created.body as CreatedOrder;
    for (const instance of started) assert.deepEqual(await presence(instance.base, order.id), { orderId: order.id, watching: counts({}), scope: 'cluster' });

    // A customer on A, an operator's board (open mode: counted as admin) on B.
    const customerOnA = await open(`${a.base.replace('http', 'ws')}/ws?track=${order.trackingToken}`);
    const boardOnB = await open(`${b.base.replace('http', 'ws')}/ws`);
    await watch(boardOnB, order.id);
    for (const instance of started) await presenceBecomes(instance.base, order.id, counts({ admin: 1, customer: 1 }));

    // The board closes: no instance counts it any more.
    boardOnB.ws.close();
    for (const instance of started) await presenceBecomes(instance.base, order.id, counts({ customer: 1 }));

    // A second customer on C; then A dies without a word: its customer stops counting within a few alive times.
    await open(`${c.base.replace('http', 'ws')}/ws?track=${order.trackingToken}`);
    await presenceBecomes(b.base, order.id, counts({ customer: 2 }));
    assert.equal(customerOnA.ws.readyState, customerOnA.ws.OPEN);
    a.child.kill('SIGKILL');
    await a.exited;
    const tookMs = await presenceBecomes(b.base, order.id, counts({ customer: 1 }));
    assert.ok(tookMs <= 3 * PRESENCE_ALIVE_TTL_MS, `the killed instance stopped counting after ${tookMs} ms`);
    assert.deepEqual((await presence(c.base, order.id)).watching, counts({ customer: 1 }));

    // C shuts down politely (SIGTERM): its customer stops counting on B well before its alive key would run out.
    const boardOnB2 = await open(`${b.base.replace('http', 'ws')}/ws`);
    await watch(boardOnB2, order.id);
    await presenceBecomes(b.base, order.id, counts({ admin: 1, customer: 1 }));
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    // Its alive key went before it exited: no waiting for it to run out.
    assert.deepEqual((await presence(b.base, order.id)).watching, counts({ admin: 1 }));
  });

  test('with Redis away an instance answers its own counts; once Redis is back, every instance\'s again', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'presence-outage' };
    const started = await Promise.all([0, 1].map(() => startInstance(env)));
    instances.push(...started);
    const [x, y] = started as [StartedProcess, StartedProcess];
    const created = await request(x.base, 'POST', '/api/orders', orderBody('Watched'));
    assert.equal(created.status, 201, created.text);
    const order = created.body as CreatedOrder;
    await open(`${x.base.replace('http', 'ws')}/ws?track=${order.trackingToken}`);
    const boardOnY = await open(`${y.base.replace('http', 'ws')}/ws`);
    await watch(boardOnY, order.id);
    for (const instance of started) await presenceBecomes(instance.base, order.id, counts({ admin: 1, customer: 1 }));

    await redis!.stop();
    await waitUntil(async () => {
      const answer = await presence(x.base, order.id);
      return answer.scope === 'instance' && isDeepStrictEqual(answer.watching, counts({ customer: 1 }));
    }, 'X answers its own counts while Redis is away');
    // Longer than an alive time: every alive key has run out when Redis comes back.
    await delay(PRESENCE_ALIVE_TTL_MS + 500);
    await redis!.start();
    for (const instance of started) await presenceBecomes(instance.base, order.id, counts({ admin: 1, customer: 1 }), 60_000);
  });
});
