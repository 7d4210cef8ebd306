/**
 * The one write path end to end: an answer means committed and applied
 * here, a consumer of the event stream that fails cannot turn a stored
 * order into a 500, idempotency holds across transports and concurrent
 * retries, and a resume taken in the middle of a burst of writes misses
 * nothing and repeats nothing, from the ring or from the backend's history.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hub, type FanOut, type HubOptions } from '../src/fanout/hub.ts';
import type { CreatedOrder, OrderEvent } from '../src/protocol.ts';
import { memoryStorage } from '../src/store.ts';
import { TestClient, connect, orderBody, pool, request, startServer, waitFor } from './helpers.ts';


describe('a failing consumer of the event stream', () => {
  test('a fan-out that throws: the writer still gets 201, the order is stored, and the failure is logged', async (t) => {
    const failing = (options: HubOptions): FanOut => {
      const hub = new Hub(options);
      return Object.assign(Object.create(hub) as Hub, {
        publish: (event: OrderEvent): void => {
          if (event.order.customerName === 'poison') throw new Error('fan-out bug');
          hub.publish(event);
        },
        subscribe: hub.subscribe.bind(hub),
        unsubscribe: hub.unsubscribe.bind(hub),
        flush: hub.flush.bind(hub),
        stats: hub.stats.bind(hub),
      });
    };
    const srv = await startServer({ createFanOut: failing });
    t.after(srv.close);
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    const res = await request(srv.base, 'POST', '/api/orders', orderBody('poison'));
    assert.equal(res.status, 201, res.text);
    const id = (res.body as CreatedOrder).id;
    assert.equal((await request(srv.base, 'GET', `/api/orders/${id}`)).status, 200, 'stored and readable');
    assert.ok(srv.logLines.some((l) => l.msg === 'an event consumer failed' && l.consumer === 'hub'), 'logged, naming the hub');
    // The stream goes on for the next writes.
    const after = await request(srv.base, 'POST', '/api/orders', orderBody('fine'));
    assert.equal(after.status, 201);
    await client.until(() => client.events.some((e) => e.order.customerName === 'fine'), 'the next event');
    // Over the socket too: the ack comes, and the order is there.
    client.send({ type: 'createOrder', requestId: 'p', order: orderBody('poison') });
    const ack = await client.next('ack');
    assert.equal(ack.requestId, 'p');
    assert.ok(srv.server.orders.get(ack.order.id) !== undefined);
  });

  test('an id generator that throws inside a create: 500, nothing stored, and the next create works', async (t) => {
    let calls = 0;
    const srv = await startServer({
      newId: () => {
        calls++;
        if (calls === 2) throw new Error('id generator bug');
        return `01a20001-9c5d-7309-a00f-${String(calls).padStart(12, '0')}`;
      },
    });
    t.after(srv.close);
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody('one'))).status, 201);
    const failed = await request(srv.base, 'POST', '/api/orders', orderBody('two'));
    assert.equal(failed.status, 500);
    assert.equal(srv.server.orders.size, 1);
    assert.equal(srv.server.orders.position.seq, 1);
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody('three'))).status, 201);
  });
});

describe('idempotency across transports and concurrent retries', () => {
  test('the same key from 10 sockets at once, and over HTTP meanwhile: one order, and every answer names it', async (t) => {
    const srv = await startServer();
    t.after(srv.close);
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(`${srv.wsBase}/ws`)));
    t.after(() => clients.forEach(({ client }) => client.close()));
    const body = orderBody('Retry Ada');
    for (const [i, { client }] of clients.entries()) client.send({ type: 'createOrder', requestId: `r${i}`, idempotencyKey: 'checkout-42', order: body });
    const overHttp = await Promise.all(Array.from({ length: 5 }, () => request(srv.base, 'POST', '/api/orders', body, { 'idempotency-key': 'checkout-42' })));
    const acks = await Promise.all(clients.map(({ client }) => client.next('ack')));
    const ids = new Set([...acks.map((a) => a.order.id), ...overHttp.map((r) => (r.body as CreatedOrder).id)]);
    assert.equal(ids.size, 1, 'one order');
    assert.equal(srv.server.orders.size, 1);
    assert.ok(overHttp.every((r) => r.status === 201));
    assert.ok(acks.every((a) => a.trackingToken === (overHttp[0]!.body as CreatedOrder).trackingToken), 'the same tracking token');
    const replays = overHttp.filter((r) => r.headers.get('idempotent-replayed') === 'true').length;
    assert.ok(replays >= 4, `${replays} of 5 HTTP answers marked as replays`);
  });

  test('a key reused with another order over the socket is refused, and creates nothing', async (t) => {
    const srv = await startServer();
    t.after(srv.close);
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    client.send({ type: 'createOrder', requestId: 'a', idempotencyKey: 'k', order: orderBody('First') });
    await client.next('ack');
    client.send({ type: 'createOrder', requestId: 'b', idempotencyKey: 'k', order: orderBody('Second') });
    const error = await client.next('error');
    assert.deepEqual([error.code, error.requestId], ['LO_ERR_IDEMPOTENCY_MISMATCH', 'b']);
    assert.equal(srv.server.orders.size, 1);
  });

  test("a socket's answers come in the order its messages were sent, commands included", async (t) => {
    const srv = await startServer();
    t.after(srv.close);
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    client.send({ type: 'createOrder', requestId: 'c1', order: orderBody() });
    client.send({ type: 'ping', id: 'p1' });
    client.send({ type: 'createOrder', requestId: 'c2', order: orderBody() });
    client.send({ type: 'ping', id: 'p2' });
    await client.until(() => client.received.filter((m) => m.type === 'pong').length === 2, 'both pongs');
    const answers = client.received.filter((m) => m.type === 'ack' || m.type === 'pong').map((m) => (m.type === 'ack' ? m.requestId : m.id));
    assert.deepEqual(answers, ['c1', 'p1', 'c2', 'p2']);
  });
});

describe('resuming in the middle of a burst', () => {
  for (const [name, options, path] of [
    ['from the ring', {}, 'fromRing'],
    ['from the backend history, then the ring', { eventLogCapacity: 5, storage: memoryStorage({ historyCapacity: 100_000 }) }, 'fromHistory'],
  ] as const) {
    test(`${name}: clients cut off and resumed during 600 concurrent writes see every seq once, in order`, async (t) => {
      const srv = await startServer(options);
      t.after(srv.close);
      const watchers = await Promise.all(Array.from({ length: 6 }, () => connect(`${srv.wsBase}/ws`)));
      const seen = watchers.map(({ snapshot }) => ({ epoch: snapshot.epoch, last: snapshot.seq, seqs: [] as number[] }));
      const follow = (i: number, client: TestClient): void => {
        client.ws.on('message', () => {
          for (const event of client.events.splice(0)) {
            seen[i]!.seqs.push(event.seq);
            seen[i]!.last = event.seq;
          }
        });
      };
      const clients = watchers.map(({ client }, i) => {
        follow(i, client);
        return client;
      });
      let resumes = 0;
      const writes = pool(20, Array.from({ length: 600 }, (_, i) => () => request(srv.base, 'POST', '/api/orders', orderBody(`burst ${i}`))));
      // Meanwhile, cut each watcher off a few times and resume it from the last seq it applied.
      const cutter = (async () => {
        for (let round = 0; round < 4; round++) {
          await new Promise((resolve) => setTimeout(resolve, 15));
          for (let i = 0; i < clients.length; i++) {
            clients[i]!.ws.terminate();
            await clients[i]!.closed;
            const { epoch, last } = seen[i]!;
            const next = new TestClient(`${srv.wsBase}/ws?since=${last}&epoch=${epoch}`);
            follow(i, next);
            const first = await next.next();
            assert.equal(first.type, 'resumed', `round ${round}, client ${i}: resumed, not reset`);
            clients[i] = next;
            resumes++;
          }
        }
      })();
      const results = await writes;
      await cutter;
      assert.ok(results.every((r) => r.status === 201));
      const final = srv.server.orders.position.seq;
      assert.equal(final, 600);
      await waitFor(() => seen.every((s) => s.last === final), 'every watcher to catch up', 20_000);
      for (const [i, s] of seen.entries()) {
        const first = watchers[i]!.snapshot.seq;
        assert.deepEqual(s.seqs, Array.from({ length: final - first }, (_, k) => first + k + 1), `watcher ${i}: every seq once, in order`);
      }
      assert.equal(resumes, 24);
      const stats = (await request(srv.base, 'GET', '/api/stats')).body as { resumes: Record<string, number> };
      assert.equal(stats.resumes.reset, 0);
      assert.ok(stats.resumes[path]! > 0, `some resumes were served ${path}: ${JSON.stringify(stats.resumes)}`);
      for (const client of clients) client.close();
    });
  }
});
