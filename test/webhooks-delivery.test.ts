/**
 * Outgoing webhooks against a real server and a real receiver that
 * verifies every signature with `standardwebhooks`: the endpoints API,
 * every event delivered with each order's events in order, retries after
 * 500s, 410 disabling, Retry-After, rotation with two signatures, test
 * sends and the deliveries API, a hanging receiver that slows neither
 * writes nor another endpoint, and the SSRF refusals.
 */

import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ALLOWED_TRANSITIONS, type Order } from '../src/protocol.ts';
import type { AttemptOutcome } from '../src/notify/webhooks/attempt.ts';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../src/notify/webhooks/settings.ts';
import { orderBody, pool, postOrder, request, startServer, waitFor, type TestServer } from './helpers.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

/** Fast retries, private targets allowed (the receiver is on 127.0.0.1). */
const FAST: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, retryScheduleMs: [100, 200, 200], allowPrivate: true, timeoutMs: 5000 };

async function setup(t: TestContext, settings: WebhookSettings = FAST): Promise<{ srv: TestServer; receiver: Receiver; outcomes: AttemptOutcome[] }> {
  const outcomes: AttemptOutcome[] = [];
  const srv = await startServer({ webhooks: { settings, onAttempt: (outcome) => outcomes.push(outcome) } });
  const receiver = await startReceiver();
  t.after(async () => {
    await srv.close();
    await receiver.close();
  });
  return { srv, receiver, outcomes };
}

interface Created {
  readonly id: string;
  readonly secret: string;
  readonly enabled: boolean;
  readonly events: readonly string[];
}

async function addEndpoint(srv: TestServer, receiver: Receiver, body: Record<string, unknown> = {}): Promise<Created> {
  const res = await request(srv.base, 'POST', '/api/webhooks', { url: receiver.url, ...body });
  assert.equal(res.status, 201, res.text);
  const created = res.body as Created;
  receiver.secrets = [created.secret];
  return created;
}

async function endpoint(srv: TestServer, id: string): Promise<Record<string, unknown>> {
  const res = await request(srv.base, 'GET', `/api/webhooks/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body as Record<string, unknown>;
}

/** Read until the answer passes `predicate` (every 50 ms, for up to 30 s); the last answer either way. */
async function eventually<T>(read: () => Promise<T>, predicate: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  let value = await read();
  while (!predicate(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

describe('webhook endpoints API', () => {
  it('creates with the secret shown once, lists, gets, changes and deletes', async (t) => {
    const { srv, receiver } = await setup(t);
    const created = await addEndpoint(srv, receiver, { events: ['order.created'], description: 'shipping' });
    assert.match(created.id, /^ep_[A-Za-z0-9_-]+$/);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(created.enabled, true);
    assert.deepEqual(created.events, ['order.created']);
    const got = await endpoint(srv, created.id);
    assert.equal(got.secret, undefined, 'GET never shows the whole secret');
    assert.ok(created.secret.startsWith(String(got.secretHint).replace('…', '')));
    assert.equal(got.backlog, 0);
    assert.equal(got.consecutiveFailures, 0);
    assert.equal(got.lastSuccessAt, null);
    const list = await request(srv.base, 'GET', '/api/webhooks');
    assert.deepEqual((list.body as { id: string }[]).map((e) => e.id), [created.id]);
    const patched = await request(srv.base, 'PATCH', `/api/webhooks/${created.id}`, { description: 'accounting', enabled: false });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((patched.body as { enabled: boolean }).enabled, false);
    assert.equal((patched.body as { disabledReason: string }).disabledReason, 'manual');
    assert.equal((patched.body as { description: string }).description, 'accounting');
    const removed = await request(srv.base, 'DELETE', `/api/webhooks/${created.id}`);
    assert.equal(removed.status, 204);
    assert.equal((await request(srv.base, 'GET', `/api/webhooks/${created.id}`)).status, 404);
    assert.deepEqual((await request(srv.base, 'GET', '/api/webhooks')).body, []);
  });

  it('refuses bad input with problem+json and changes nothing', async (t) => {
    const { srv } = await setup(t);
    for (const body of [{ url: 'ftp://example.com/' }, { url: 'https://example.com', events: ['order.exploded'] }, { url: 'https://example.com', secret: 'mine' }, {}]) {
      const res = await request(srv.base, 'POST', '/api/webhooks', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal((res.body as { code: string }).code, 'LO_ERR_INVALID_FIELD');
    }
    const patch = await request(srv.base, 'PATCH', '/api/webhooks/ep_nope', { enabled: true });
    assert.equal(patch.status, 404);
    assert.deepEqual((await request(srv.base, 'GET', '/api/webhooks')).body, []);
  });

  it('refuses loopback, private and metadata targets unless allowed (422)', async (t) => {
    const { srv } = await setup(t, { ...FAST, allowPrivate: false });
    for (const url of ['http://127.0.0.1:9/hooks', 'http://localhost/hooks', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[fd00::1]/', 'http://100.64.1.1/']) {
      const res = await request(srv.base, 'POST', '/api/webhooks', { url });
      assert.equal(res.status, 422, url);
      assert.equal((res.body as { code: string }).code, 'LO_ERR_WEBHOOK_TARGET');
    }
    assert.deepEqual((await request(srv.base, 'GET', '/api/webhooks')).body, []);
  });
});

describe('webhook delivery', () => {
  it('every event arrives, signed, each order in seq order, the webhook-id derived from the seq', async (t) => {
    const { srv, receiver, outcomes } = await setup(t);
    await addEndpoint(srv, receiver);
    const orders = await pool(8, Array.from({ length: 40 }, (_, i) => () => postOrder(srv.base, `hook-${i}`)));
    let changes = 0;
    await pool(8, orders.map((order) => async () => {
      let current: Order = order;
      for (let step = 0; step < 2; step++) {
        const to = ALLOWED_TRANSITIONS[current.status][0]!;
        const res = await request(srv.base, 'PUT', `/api/orders/${current.id}/status`, { status: to });
        assert.equal(res.status, 200, res.text);
        current = res.body as Order;
        changes++;
      }
    }));
    const deleted = await request(srv.base, 'DELETE', `/api/orders/${orders[0]!.id}`);
    assert.equal(deleted.status, 204);
    const expected = orders.length + changes + 1;
    await receiver.until((got) => new Set(got.map((r) => r.id)).size >= expected);
    assert.ok(receiver.received.every((r) => r.verified[0] === true), 'every signature verifies');
    const seqs = receiver.received.map((r) => r.payload.data.seq!);
    assert.equal(new Set(seqs).size, expected, 'one seq per event');
    const byOrder = new Map<string, number[]>();
    for (const r of receiver.received) byOrder.set(r.payload.data.order!.id, [...(byOrder.get(r.payload.data.order!.id) ?? []), r.payload.data.seq!]);
    for (const [id, list] of byOrder) assert.deepEqual(list, [...list].sort((a, b) => a - b), `order ${id} in seq order`);
    const types = receiver.received.map((r) => r.payload.type);
    assert.equal(types.filter((t) => t === 'order.created').length, orders.length);
    assert.equal(types.filter((t) => t === 'order.status_changed').length, changes);
    assert.equal(types.filter((t) => t === 'order.deleted').length, 1);
    const change = receiver.received.find((r) => r.payload.type === 'order.status_changed')!;
    assert.equal(change.payload.data.previousStatus, 'pending');
    assert.equal(typeof change.payload.timestamp, 'string');
    // The callback is told once each answer is read, a moment after the receiver has the request.
    await waitFor(() => outcomes.filter((o) => o.result === 'delivered').length >= expected, 'an outcome per delivery');
  });

  it('a receiver answering 500 gets the event after retries, with the same webhook-id; the deliveries API shows the attempts', async (t) => {
    const { srv, receiver, outcomes } = await setup(t);
    const created = await addEndpoint(srv, receiver);
    receiver.reply = ({ index }) => (index < 2 ? { status: 500 } : { status: 204 });
    await postOrder(srv.base, 'flaky');
    await receiver.until((got) => got.length >= 3);
    assert.equal(new Set(receiver.received.map((r) => r.id)).size, 1, 'one webhook-id across retries');
    assert.deepEqual(receiver.received.map((r) => r.answered), [500, 500, 204]);
    await waitFor(() => outcomes.length >= 3, 'three attempts told');
    assert.deepEqual(outcomes.map((o) => [o.result, o.status, o.kind]), [['failed', 500, 'first'], ['failed', 500, 'retry'], ['delivered', 204, 'retry']]);
    const deliveries = await request(srv.base, 'GET', `/api/webhooks/${created.id}/deliveries?limit=10`);
    assert.equal(deliveries.status, 200);
    const [delivery] = deliveries.body as { id: string; state: string; type: string; seq: number; attempts: { status: number | null }[] }[];
    assert.equal(delivery!.id, receiver.received[0]!.id);
    assert.equal(delivery!.state, 'delivered');
    assert.equal(delivery!.type, 'order.created');
    assert.deepEqual(delivery!.attempts.map((a) => a.status), [500, 500, 204]);
    const state = await endpoint(srv, created.id);
    assert.equal(state.consecutiveFailures, 0);
    assert.equal(typeof state.lastSuccessAt, 'string');
    // The same attempts, counted in /metrics by outcome (a receiver's 500 is `rejected`).
    const metrics = (await request(srv.base, 'GET', '/metrics')).text;
    assert.match(metrics, /^liveorders_webhook_attempts_total\{outcome="rejected"\} 2$/m);
    assert.match(metrics, /^liveorders_webhook_attempts_total\{outcome="delivered"\} 1$/m);
  });

  it('410 disables the endpoint at once; re-enabling resumes with the event it had not delivered', async (t) => {
    const { srv, receiver } = await setup(t);
    const created = await addEndpoint(srv, receiver);
    receiver.reply = () => ({ status: 410 });
    await postOrder(srv.base, 'gone');
    await receiver.until((got) => got.length >= 1);
    const state = await eventually(() => endpoint(srv, created.id), (e) => e.enabled === false);
    assert.equal(state.enabled, false);
    assert.equal(state.disabledReason, 'gone');
    await postOrder(srv.base, 'while disabled');
    receiver.reply = () => ({ status: 204 });
    const resumed = await request(srv.base, 'PATCH', `/api/webhooks/${created.id}`, { enabled: true });
    assert.equal(resumed.status, 200);
    await receiver.until((got) => got.filter((r) => r.answered === 204).length >= 2);
    const delivered = receiver.received.filter((r) => r.answered === 204);
    assert.equal(delivered[0]!.id, receiver.received[0]!.id, 'the event refused with 410 comes first, with its webhook-id');
    assert.deepEqual(delivered.map((r) => r.payload.data.order!.customerName), ['gone', 'while disabled']);
    assert.equal(receiver.received.length, 3, 'nothing was sent while disabled');
  });

  it('Retry-After on 503 is honoured over a shorter schedule', async (t) => {
    const { srv, receiver } = await setup(t, { ...FAST, retryScheduleMs: [0, 0] });
    await addEndpoint(srv, receiver);
    const arrivals: number[] = [];
    receiver.reply = ({ index }) => {
      arrivals.push(performance.now());
      return index === 0 ? { status: 503, headers: { 'Retry-After': '2' } } : { status: 204 };
    };
    await postOrder(srv.base, 'busy');
    await receiver.until((got) => got.length >= 2);
    assert.ok(arrivals[1]! - arrivals[0]! >= 1900, `waited ${Math.round(arrivals[1]! - arrivals[0]!)} ms`);
  });

  it('after a rotation both secrets sign; a test send and a manual retry go out at once', async (t) => {
    const { srv, receiver } = await setup(t, { ...FAST, retryScheduleMs: [] });
    const created = await addEndpoint(srv, receiver);
    const rotated = await request(srv.base, 'POST', `/api/webhooks/${created.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    const secret = (rotated.body as { secret: string }).secret;
    assert.notEqual(secret, created.secret);
    receiver.secrets = [secret, created.secret];
    const test = await request(srv.base, 'POST', `/api/webhooks/${created.id}/test`);
    assert.equal(test.status, 200, test.text);
    assert.equal((test.body as { delivered: boolean }).delivered, true);
    assert.equal((test.body as { status: number }).status, 204);
    assert.equal(receiver.received[0]!.payload.type, 'webhook.test');
    assert.deepEqual(receiver.received[0]!.verified, [true, true]);
    assert.equal(receiver.received[0]!.signature.split(' ').length, 2);
    // No retries: the one failed attempt marks the delivery failed; a manual retry delivers it.
    receiver.reply = () => ({ status: 500 });
    await postOrder(srv.base, 'retry me');
    await receiver.until((got) => got.length >= 2);
    const failedId = receiver.received[1]!.id;
    const listed = await eventually(async () => (await request(srv.base, 'GET', `/api/webhooks/${created.id}/deliveries`)).body as { id: string; state: string }[], (list) => list[0]?.state === 'failed');
    assert.equal(listed[0]!.id, failedId);
    assert.equal(listed[0]!.state, 'failed');
    receiver.reply = () => ({ status: 200 });
    const retried = await request(srv.base, 'POST', `/api/webhooks/${created.id}/deliveries/${failedId}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.equal((retried.body as { delivered: boolean }).delivered, true);
    assert.equal(receiver.received[2]!.id, failedId);
    assert.deepEqual(receiver.received[2]!.verified, [true, true]);
    const after = (await request(srv.base, 'GET', `/api/webhooks/${created.id}/deliveries?limit=1`)).body as { id: string; state: string; attempts: unknown[] }[];
    assert.equal(after.length, 1);
    assert.equal(after[0]!.state, 'delivered');
    assert.equal(after[0]!.attempts.length, 2);
    assert.equal((await request(srv.base, 'GET', `/api/webhooks/${created.id}/deliveries?limit=0`)).status, 400);
    const logged = JSON.stringify(srv.logLines);
    for (const key of [created.secret, secret]) assert.ok(!logged.includes(key.slice('whsec_'.length)), 'no secret in the log');
    assert.ok(srv.logLines.some((line) => line.msg === 'webhook secret rotated'), 'the rotation itself is logged');
    assert.equal((await request(srv.base, 'POST', `/api/webhooks/${created.id}/deliveries/msg_nope/retry`)).status, 404);
  });

  it('an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_HOURS is disabled (failing)', async (t) => {
    const { srv, receiver } = await setup(t, { ...FAST, retryScheduleMs: [100, 100, 100, 100, 100, 100, 100, 100], disableAfterMs: 400 });
    const created = await addEndpoint(srv, receiver);
    receiver.reply = () => ({ status: 500 });
    await postOrder(srv.base, 'failing');
    const state = await eventually(() => endpoint(srv, created.id), (e) => e.enabled === false);
    assert.equal(state.disabledReason, 'failing');
    assert.ok((state.consecutiveFailures as number) >= 2, `failures ${String(state.consecutiveFailures)}`);
    const attempts = receiver.received.length;
    assert.ok(attempts < 9, `stopped before the schedule ran out (${attempts} attempts)`);
  });

  it('a backlog past WEBHOOK_MAX_BACKLOG disables the endpoint (backlog), even while an attempt hangs', async (t) => {
    const { srv, receiver } = await setup(t, { ...FAST, timeoutMs: 120_000, maxBacklog: 5 });
    const created = await addEndpoint(srv, receiver);
    receiver.reply = () => 'hang';
    for (let i = 0; i < 10; i++) await postOrder(srv.base, `pile-${i}`);
    const state = await eventually(() => endpoint(srv, created.id), (e) => e.enabled === false);
    assert.equal(state.disabledReason, 'backlog');
    assert.ok((state.backlog as number) >= 6, `backlog ${String(state.backlog)} kept, not skipped`);
    // Re-enabled with the receiver answering: everything arrives, the first event first.
    receiver.reply = () => ({ status: 204 });
    const resumed = await request(srv.base, 'PATCH', `/api/webhooks/${created.id}`, { enabled: true });
    assert.equal(resumed.status, 200);
    await receiver.until((got) => new Set(got.filter((r) => r.answered === 204).map((r) => r.payload.data.seq)).size >= 10);
    const names = new Set(receiver.received.filter((r) => r.answered === 204).map((r) => r.payload.data.order!.customerName));
    assert.equal(names.size, 10);
  });

  it('a receiver that hangs slows neither writes nor another endpoint', async (t) => {
    const { srv, receiver } = await setup(t, { ...FAST, timeoutMs: 120_000 });
    const hanging = await addEndpoint(srv, receiver);
    receiver.reply = () => 'hang';
    const healthy = await startReceiver();
    t.after(() => healthy.close());
    const other = await request(srv.base, 'POST', '/api/webhooks', { url: healthy.url });
    healthy.secrets = [(other.body as Created).secret];
    const created = await pool(8, Array.from({ length: 200 }, (_, i) => async () => (await request(srv.base, 'POST', '/api/orders', orderBody(`busy-${i}`))).status));
    assert.ok(created.every((status) => status === 201));
    await healthy.until((got) => got.length >= 200);
    assert.ok(healthy.received.every((r) => r.verified[0] === true));
    // The hanging endpoint holds its first events (one per lane) and has the rest waiting.
    assert.ok(receiver.received.length <= 4, `${receiver.received.length} requests to the hanging receiver`);
    const state = await endpoint(srv, hanging.id);
    assert.ok((state.backlog as number) >= 190, `backlog ${String(state.backlog)}`);
  });
});
