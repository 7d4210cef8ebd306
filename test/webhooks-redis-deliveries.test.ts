/**
 * Recent webhook deliveries with two Redis instances: a test send and a
 * manual retry answered by the instance that does not send stay in the
 * endpoint's recent deliveries, with their attempts, on both instances,
 * while the sender goes on delivering and saving its deliveries. And the
 * store itself: copies of a delivery saved by two instances are merged,
 * the bound holds, a deleted endpoint's deliveries do not come back.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { KEPT_DELIVERIES } from '../src/notify/webhooks/delivery-merge.ts';
import type { Delivery, WebhookEndpoint } from '../src/notify/webhooks/model.ts';
import { RedisWebhookStore } from '../src/notify/webhooks/store.ts';
import { openStorage } from '../src/store.ts';
import { captureLogger, orderBody, request } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisWebhookSuite, type Received } from './webhook-receiver.ts';

const { skip, redis, receiver, instances } = await redisWebhookSuite();

/** Events the sender delivers (and saves) after the test send and the retry. */
const LATER_EVENTS = 6;

/** A delivery as `GET /api/webhooks/ID/deliveries` shows it. */
interface ShownDelivery {
  readonly id: string;
  readonly type: string;
  readonly state: string;
  readonly attempts: readonly { readonly status: number | null }[];
}

/** How many webhook deliveries an instance made (its /metrics). */
async function delivered(instance: StartedProcess): Promise<number> {
  const res = await request(instance.base, 'GET', '/metrics');
  const match = /liveorders_webhook_attempts_total\{outcome="delivered"\} (\d+)/.exec(res.text);
  assert.ok(match !== null, 'the delivered counter is in /metrics');
  return Number(match[1]);
}

/** An endpoint's recent deliveries as an instance shows them, newest first. */
async function shown(instance: StartedProcess, endpointId: string): Promise<ShownDelivery[]> {
  const res = await request(instance.base, 'GET', `/api/webhooks/${endpointId}/deliveries?limit=100`);
  assert.equal(res.status, 200, res.text);
  return res.body as ShownDelivery[];
}

/** Wait until `check` holds, asking again every 50 ms. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The request that arrived for an order. */
function arrivalOf(order: CreatedOrder): Received | undefined {
  return receiver.received.find((r) => r.payload.data.order?.id === order.id);
}

describe('webhook deliveries on two Redis instances', { skip }, () => {
  test('a test send and a manual retry answered by the instance that does not send stay in the recent deliveries of both, while the sender saves its own', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'hooks-records', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCHEDULE: '0.1,0.2' };
    const started = await Promise.all([0, 1].map(() => startInstance(env)));
    instances.push(...started);
    const created = await request(started[0]!.base, 'POST', '/api/webhooks', { url: receiver.url, events: ['order.created'] });
    assert.equal(created.status, 201, created.text);
    const endpointId = (created.body as { id: string }).id;
    receiver.secrets = [(created.body as { secret: string }).secret];
    const create = async (instance: StartedProcess, name: string): Promise<CreatedOrder> => {
      const res = await request(instance.base, 'POST', '/api/orders', orderBody(name));
      assert.equal(res.status, 201, res.text);
      return res.body as CreatedOrder;
    };

    // Which instance sends: the one that counted the first delivery.
    const first = await create(started[0]!, 'first');
    await receiver.until(() => arrivalOf(first) !== undefined, 20_000);
    let counts: number[] = [];
    await eventually(async () => {
      counts = await Promise.all(started.map((instance) => delivered(instance)));
      return counts.some((n) => n > 0);
    }, 'the sender to count its delivery');
    const sender = started[counts[0]! > 0 ? 0 : 1]!;
    const other = started[counts[0]! > 0 ? 1 : 0]!;
    assert.equal(await delivered(other), 0, 'one instance sends');
    const firstId = arrivalOf(first)!.id;
    await eventually(async () => (await shown(other, endpointId)).some((d) => d.id === firstId && d.state === 'delivered'), 'the other instance to show the first delivery');

    // Through the instance that does not send: a test send, and a manual retry of the sender's delivery.
    const tested = await request(other.base, 'POST', `/api/webhooks/${endpointId}/test`);
    assert.equal(tested.status, 200, tested.text);
    const testId = (tested.body as { id: string; delivered: boolean }).id;
    assert.equal((tested.body as { delivered: boolean }).delivered, true, tested.text);
    const retried = await request(other.base, 'POST', `/api/webhooks/${endpointId}/deliveries/${encodeURIComponent(firstId)}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.equal((retried.body as { delivered: boolean }).delivered, true, retried.text);

    // The sender goes on: each later delivery is shown by the other instance, so the sender saved its deliveries after each.
    for (let i = 0; i < LATER_EVENTS; i++) {
      const order = await create(started[i % 2]!, `later-${i}`);
      await receiver.until(() => arrivalOf(order) !== undefined, 20_000);
      const id = arrivalOf(order)!.id;
      await eventually(async () => (await shown(other, endpointId)).some((d) => d.id === id && d.state === 'delivered'), `the other instance to show the sender's delivery ${id}`);
    }
    assert.equal(await delivered(other), 2, 'the other instance made only the test send and the retry');

    const lists = await Promise.all([sender, other].map((instance) => shown(instance, endpointId)));
    for (const [i, list] of lists.entries()) {
      const which = i === 0 ? 'the sender' : 'the other instance';
      const test = list.find((d) => d.id === testId);
      assert.ok(test !== undefined, `${which} shows the test delivery (shows ${list.map((d) => d.id).join(', ')})`);
      assert.equal(test.type, 'webhook.test');
      assert.equal(test.state, 'delivered');
      assert.deepEqual(test.attempts.map((a) => a.status), [204], `${which} shows the test send's attempt`);
      const retriedDelivery = list.find((d) => d.id === firstId);
      assert.ok(retriedDelivery !== undefined, `${which} shows the first delivery`);
      assert.deepEqual(retriedDelivery.attempts.map((a) => a.status), [204, 204], `${which} shows the sender's attempt and the manual retry`);
      assert.equal(list.length, 2 + LATER_EVENTS, `${which} shows every delivery once`);
    }
    assert.deepEqual(lists[0]!.map((d) => d.id), lists[1]!.map((d) => d.id), 'both instances show the deliveries in the same order');
  });
});

describe('webhook deliveries in Redis (the store)', { skip }, () => {
  test('copies of one delivery saved by two instances are merged; the newest 100 are kept in the order first saved; a deleted endpoint keeps none', async () => {
    const storage = await openStorage({ mode: 'redis', redisUrl: redis!.url, redisPrefix: 'records-store', logger: captureLogger().logger, onSinkError: () => undefined });
    after(() => storage.log.close());
    const [one, two] = [new RedisWebhookStore(storage.sideKeys!), new RedisWebhookStore(storage.sideKeys!)];
    const endpoint: WebhookEndpoint = { id: 'ep_store', url: 'https://example.com/hook', events: ['order.created'], description: '', enabled: true, secret: 'whsec_x', createdAt: new Date().toISOString(), consecutiveFailures: 0, missedEvents: 0 };
    await one.saveEndpoint(endpoint);
    const delivery = (id: string, state: Delivery['state'], attempts: Delivery['attempts']): Delivery => ({ id, type: 'order.created', seq: 1, state, attempts, body: '{}' });
    const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

    // The sender's copy has its failed attempt; another instance's stale copy has a later manual retry that got through.
    const sender = delivery('msg_1', 'pending', [{ at: at(0), status: 500, durationMs: 3 }]);
    await one.saveDeliveries(endpoint.id, [sender], [sender]);
    const stale = delivery('msg_1', 'delivered', [{ at: at(10), status: 204, durationMs: 2 }]);
    await two.saveDeliveries(endpoint.id, [stale], [stale]);
    // The sender saves its copy again (a second failed attempt, earlier than the retry): the retry stays.
    const again = delivery('msg_1', 'pending', [{ at: at(0), status: 500, durationMs: 3 }, { at: at(5), status: 502, durationMs: 4 }]);
    await one.saveDeliveries(endpoint.id, [again], [again]);
    const merged = (await two.load()).deliveries.get(endpoint.id);
    assert.deepEqual(merged?.map((d) => [d.id, d.state, d.attempts.map((a) => a.status)]), [['msg_1', 'delivered', [500, 502, 204]]], 'attempts of both copies, the state of the latest');

    // Past the bound the first saved go.
    const many = Array.from({ length: KEPT_DELIVERIES }, (_, i) => delivery(`msg_n${i}`, 'delivered', [{ at: at(100 + i), status: 204, durationMs: 1 }]));
    for (let i = 0; i < many.length; i += 10) await (i % 20 === 0 ? one : two).saveDeliveries(endpoint.id, many.slice(0, i + 10), many.slice(i, i + 10));
    const kept = (await one.load()).deliveries.get(endpoint.id);
    assert.deepEqual(kept?.map((d) => d.id), many.map((d) => d.id), `the newest ${KEPT_DELIVERIES}, in the order first saved`);

    await two.deleteEndpoint(endpoint.id);
    await one.saveDeliveries(endpoint.id, [sender], [sender]);
    const loaded = await one.load();
    assert.deepEqual(loaded.endpoints, []);
    assert.equal(loaded.deliveries.size, 0, 'a late save does not bring back a deleted endpoint\'s deliveries');
  });
});
