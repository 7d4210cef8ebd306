/**
 * Webhooks with three instances sharing a Redis history: an endpoint made
 * on one instance is seen and changed on the others, one instance (the
 * webhook lease holder) sends each event once, signed; after kill -9 of
 * that instance another takes over within a few seconds and every event
 * still arrives.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { orderBody, request } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisWebhookSuite, type Received } from './webhook-receiver.ts';

const { skip, redis, receiver, instances } = await redisWebhookSuite();

/** The first delivery after kill -9 of the sender comes within this, in milliseconds: the lease time (3 s) and a start, with room for 2 noisy cores. */
const TAKEOVER_BOUND_MS = 6000;

/** Events a crash may send again at most: the batch in hand (endpoint-worker's MAX_BATCH). */
const MAX_BATCH = 64;

/** How many webhook deliveries an instance made (its /metrics). */
async function delivered(instance: StartedProcess): Promise<number> {
  const res = await request(instance.base, 'GET', '/metrics');
  const match = /liveorders_webhook_attempts_total\{outcome="delivered"\} (\d+)/.exec(res.text);
  assert.ok(match !== null, 'the delivered counter is in /metrics');
  return Number(match[1]);
}

/** The requests that arrived for an order. */
function arrivals(orderId: string): Received[] {
  return receiver.received.filter((r) => r.payload.data.order?.id === orderId);
}

describe('webhooks on three Redis instances', { skip }, () => {
  test('the API works on every instance; one sender; after kill -9 of the sender another takes over and every event arrives', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'hooks3', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCHEDULE: '0.1,0.2,0.5,1' };
    const started = await Promise.all([0, 1, 2].map(() => startInstance(env)));
    instances.push(...started);
    const [a, b, c] = started as [StartedProcess, StartedProcess, StartedProcess];

    const created = await request(a.base, 'POST', '/api/webhooks', { url: receiver.url, events: ['order.created'], description: 'made on A' });
    assert.equal(created.status, 201, created.text);
    const endpointId = (created.body as { id: string }).id;
    receiver.secrets = [(created.body as { secret: string }).secret];
    // Every instance sees it at once, changes it, and sees the others' changes.
    for (const instance of [b, c]) {
      const got = await request(instance.base, 'GET', `/api/webhooks/${endpointId}`);
      assert.equal(got.status, 200, got.text);
      assert.equal((got.body as { description: string }).description, 'made on A');
      assert.equal((got.body as { secret?: string }).secret, undefined);
    }
    const patched = await request(b.base, 'PATCH', `/api/webhooks/${endpointId}`, { description: 'changed on B' });
    assert.equal(patched.status, 200, patched.text);
    for (const instance of [a, c]) {
      const listed = await request(instance.base, 'GET', '/api/webhooks');
      assert.deepEqual((listed.body as { id: string; description: string }[]).map((e) => [e.id, e.description]), [[endpointId, 'changed on B']]);
    }
    // A second endpoint made on C and deleted on A is gone everywhere.
    const other = await request(c.base, 'POST', '/api/webhooks', { url: `${receiver.url}?other`, events: ['order.deleted'] });
    assert.equal(other.status, 201, other.text);
    const otherId = (other.body as { id: string }).id;
    assert.equal((await request(a.base, 'DELETE', `/api/webhooks/${otherId}`)).status, 204);
    for (const instance of started) assert.equal((await request(instance.base, 'GET', `/api/webhooks/${otherId}`)).status, 404);

    const create = async (instance: StartedProcess, name: string): Promise<CreatedOrder> => {
      const res = await request(instance.base, 'POST', '/api/orders', orderBody(name));
      assert.equal(res.status, 201, res.text);
      return res.body as CreatedOrder;
    };
    const first: CreatedOrder[] = [];
    for (let i = 0; i < 30; i++) first.push(await create(started[i % 3]!, `first-${i}`));
    await receiver.until(() => first.every((order) => arrivals(order.id).length >= 1), 30_000);
    // One more through another instance: once it arrived, a second sender would have sent the first ones again by now.
    const marker = await create(c, 'marker');
    await receiver.until(() => arrivals(marker.id).length >= 1, 30_000);
    for (const order of [...first, marker]) {
      const got = arrivals(order.id);
      assert.equal(got.length, 1, `order ${order.id} was sent once`);
      assert.deepEqual(got[0]!.verified, [true], 'signed with the endpoint secret');
    }
    const counts = await Promise.all(started.map((instance) => delivered(instance)));
    const senders = started.filter((_, i) => counts[i]! > 0);
    assert.equal(senders.length, 1, `one instance sends (delivered per instance: ${counts.join(', ')})`);
    const sender = senders[0]!;
    const survivors = started.filter((instance) => instance !== sender);

    // Whichever instance sent, every instance shows the deliveries.
    for (const instance of started) {
      let shown = 0;
      const deadline = Date.now() + 10_000;
      // The sender saves its deliveries a little after they are made.
      while (shown !== 31 && Date.now() < deadline) {
        const listed = await request(instance.base, 'GET', `/api/webhooks/${endpointId}/deliveries?limit=100`);
        assert.equal(listed.status, 200, listed.text);
        shown = (listed.body as unknown[]).length;
        if (shown !== 31) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(shown, 31, `instance ${instance.base} shows the 31 deliveries`);
    }

    const seqBeforeKill = Math.max(...receiver.received.map((r) => r.payload.data.seq ?? 0));
    const before = receiver.received.length;
    const killedAt = Date.now();
    sender.child.kill('SIGKILL');
    await sender.exited;
    const later: CreatedOrder[] = [];
    for (let i = 0; i < 20; i++) later.push(await create(survivors[i % 2]!, `later-${i}`));
    // Until another instance takes over, every survivor shows the endpoint falling behind (from the saved position).
    for (const instance of survivors) {
      const got = await request(instance.base, 'GET', `/api/webhooks/${endpointId}`);
      assert.equal(got.status, 200, got.text);
      const { backlog } = got.body as { backlog: number };
      if (receiver.received.length === before) assert.ok(backlog >= 10, `backlog ${backlog} on ${instance.base} before the takeover`);
    }
    await receiver.until(() => receiver.received.length > before, 30_000);
    const takeoverMs = Date.now() - killedAt;
    await receiver.until(() => later.every((order) => arrivals(order.id).length >= 1), 30_000);
    console.log(`webhooks: first delivery after kill -9 of the sender ${takeoverMs} ms later`);
    assert.ok(takeoverMs < TAKEOVER_BOUND_MS, `another instance took over within ${TAKEOVER_BOUND_MS} ms of the kill (took ${takeoverMs} ms)`);
    for (const order of later) {
      assert.equal(arrivals(order.id).length, 1, `order ${order.id} (made after the kill) was sent once`);
      assert.deepEqual(arrivals(order.id)[0]!.verified, [true]);
    }
    // Duplicates only of what the dead sender had in hand: events from before the kill, one batch at most.
    const byId = new Map<string, Received[]>();
    for (const r of receiver.received) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    const repeated = [...byId.values()].filter((copies) => copies.length > 1);
    assert.ok(repeated.length <= MAX_BATCH, `${repeated.length} events sent twice`);
    for (const copies of repeated) assert.ok(copies[0]!.payload.data.seq! <= seqBeforeKill, `event ${copies[0]!.payload.data.seq} sent again was from before the kill`);
    const survivorCounts = await Promise.all(survivors.map((instance) => delivered(instance)));
    assert.equal(survivorCounts.filter((n) => n > 0).length, 1, `one survivor took over (delivered: ${survivorCounts.join(', ')})`);
  });
});
