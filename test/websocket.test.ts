/** The WebSocket hub end to end: real server, real `ws` clients, real HTTP writes. */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Order, OrderEvent } from '../src/protocol.ts';
import { INVALID_CLIENT_MESSAGES } from './fixtures/messages.ts';
import { TestClient, connect, orderBody, postOrder, request, startServer, type TestServer } from './helpers.ts';

const srv: TestServer = await startServer();
after(srv.close);

function create(base = srv.base, name = 'Ada'): Promise<Order> {
  return postOrder(base, name);
}

/** Apply a snapshot and then events to a map, the way any client must. */
function replay(snapshotOrders: readonly Order[], events: readonly OrderEvent[]): Map<string, Order> {
  const orders = new Map(snapshotOrders.map((o) => [o.id, o]));
  for (const e of events) {
    if (e.type === 'order.deleted') orders.delete(e.order.id);
    else orders.set(e.order.id, e.order);
  }
  return orders;
}

describe('connecting', () => {
  test('a new client gets one snapshot: newest orders, total, counts, seq and server id', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const a = await create(fresh.base, 'first');
    const b = await create(fresh.base, 'second');
    await request(fresh.base, 'PUT', `/api/orders/${a.id}/status`, { status: 'shipped' });
    const { client, snapshot } = await connect(`${fresh.wsBase}/ws`);
    t.after(() => client.close());
    assert.deepEqual(snapshot.orders.map((o) => o.id), [b.id, a.id]);
    assert.equal(snapshot.orders[1]!.status, 'shipped');
    assert.equal(snapshot.total, 2);
    assert.deepEqual(snapshot.counts, { pending: 1, processing: 0, shipped: 1, delivered: 0, cancelled: 0 });
    assert.equal(snapshot.seq, 3);
    assert.equal(snapshot.epoch, fresh.server.epoch);
    assert.deepEqual(snapshot.view, {});
    assert.equal(snapshot.limit, 1000);
    assert.equal(client.received.length, 1, 'exactly one message on connect');
    const stats = (await request(fresh.base, 'GET', '/api/stats')).body as { connections: number };
    assert.equal(stats.connections, 1);
  });

  test('the root URL works for the original demo clients', async (t) => {
    const { client, snapshot } = await connect(`${srv.wsBase}/`);
    t.after(() => client.close());
    assert.equal(snapshot.type, 'snapshot');
  });

  test('the snapshot is cut at the limit while total tells the full count', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    for (let i = 0; i < 5; i++) await create(fresh.base, `c${i}`);
    const { client, snapshot } = await connect(`${fresh.wsBase}/ws?limit=2`);
    t.after(() => client.close());
    assert.equal(snapshot.orders.length, 2);
    assert.equal(snapshot.total, 5);
    assert.deepEqual(snapshot.orders.map((o) => o.customerName), ['c4', 'c3']);
  });

  test('other paths and bad view queries are refused at the upgrade', async () => {
    await assert.rejects(new TestClient(`${srv.wsBase}/nope`).opened(), /upgrade refused: 404/);
    await assert.rejects(new TestClient(`${srv.wsBase}/ws?status=lost`).opened(), /upgrade refused: 400/);
    await assert.rejects(new TestClient(`${srv.wsBase}/ws?limit=0`).opened(), /upgrade refused: 400/);
    await assert.rejects(new TestClient(`${srv.wsBase}/ws?order=nope`).opened(), /upgrade refused: 400/);
  });
});

describe('events', () => {
  test('created, updated (with previous status) and deleted reach every client', async (t) => {
    const { client, snapshot } = await connect(`${srv.wsBase}/ws`);
    const { client: other } = await connect(`${srv.wsBase}/ws`);
    t.after(() => (client.close(), other.close()));
    const order = await create();
    await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' });
    await request(srv.base, 'DELETE', `/api/orders/${order.id}`);
    for (const c of [client, other]) {
      await c.until(() => c.events.length >= 3, '3 events');
      const [created, updated, deleted] = c.events;
      assert.deepEqual(created, { type: 'order.created', seq: snapshot.seq + 1, order });
      assert.equal(updated!.type, 'order.updated');
      assert.equal(updated!.type === 'order.updated' && updated!.previousStatus, 'pending');
      assert.equal(updated!.order.status, 'processing');
      assert.equal(deleted!.type, 'order.deleted');
      assert.equal(deleted!.order.id, order.id);
      assert.deepEqual(c.events.map((e) => e.seq), [snapshot.seq + 1, snapshot.seq + 2, snapshot.seq + 3]);
    }
  });

  test('many concurrent writes: every client sees every seq once, in order, and ends equal to the server', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(`${fresh.wsBase}/ws`)));
    t.after(() => clients.forEach(({ client }) => client.close()));
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => create(fresh.base, `burst ${i}`)));
    await Promise.all(
      created.flatMap((o, i) => [
        request(fresh.base, 'PUT', `/api/orders/${o.id}/status`, { status: i % 3 === 0 ? 'cancelled' : 'processing' }),
        ...(i % 10 === 0 ? [request(fresh.base, 'DELETE', `/api/orders/${o.id}`)] : []),
      ]),
    );
    const finalSeq = fresh.server.orders.position.seq;
    const serverState = (await request(fresh.base, 'GET', '/api/orders?limit=1000')).body as Order[];
    for (const { client, snapshot } of clients) {
      await client.until(() => client.events.at(-1)?.seq === finalSeq, `seq ${finalSeq}`);
      const seqs = client.events.map((e) => e.seq);
      assert.deepEqual(seqs, Array.from({ length: finalSeq }, (_, i) => i + 1), 'gap-free, ordered, no duplicates');
      const state = replay(snapshot.orders, client.events);
      assert.deepEqual([...state.values()].sort((a, b) => (a.id < b.id ? 1 : -1)), serverState);
      assert.ok(client.frames.length < client.events.length, `bursts share frames (${client.frames.length} frames for ${client.events.length} events)`);
    }
  });

  test('a client connecting during a burst misses nothing and repeats nothing after its snapshot', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const writes = Array.from({ length: 150 }, (_, i) => create(fresh.base, `w${i}`));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { client, snapshot } = await connect(`${fresh.wsBase}/ws`);
    t.after(() => client.close());
    await Promise.all(writes);
    const finalSeq = fresh.server.orders.position.seq;
    if (snapshot.seq < finalSeq) await client.until(() => client.events.at(-1)?.seq === finalSeq, `seq ${finalSeq}`);
    const seqs = client.events.map((e) => e.seq);
    assert.deepEqual(seqs, Array.from({ length: finalSeq - snapshot.seq }, (_, i) => snapshot.seq + 1 + i));
    assert.equal(replay(snapshot.orders, client.events).size, 150);
  });
});

describe('resume after reconnect', () => {
  test('?since= with the same server run gets `resumed` and exactly the missed events, then live ones', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const { client, snapshot } = await connect(`${fresh.wsBase}/ws`);
    const first = await create(fresh.base, 'before');
    await client.until(() => client.events.length === 1, 'first event');
    client.ws.terminate();
    const missedA = await create(fresh.base, 'missed A');
    await request(fresh.base, 'PUT', `/api/orders/${first.id}/status`, { status: 'shipped' });
    const lastSeen = client.events.at(-1)!.seq;

    const again = new TestClient(`${fresh.wsBase}/ws?since=${lastSeen}&epoch=${snapshot.epoch}`);
    t.after(() => again.close());
    await again.opened();
    const resumed = await again.next('resumed');
    assert.deepEqual(resumed, { type: 'resumed', epoch: snapshot.epoch, since: lastSeen, seq: lastSeen + 2, view: {} });
    await again.until(() => again.events.length === 2, 'the two missed events');
    assert.deepEqual(again.events.map((e) => [e.seq, e.type, e.order.id]), [
      [lastSeen + 1, 'order.created', missedA.id],
      [lastSeen + 2, 'order.updated', first.id],
    ]);
    await create(fresh.base, 'live');
    await again.until(() => again.events.length === 3, 'the live event');
    assert.equal(again.events[2]!.seq, lastSeen + 3);
    assert.equal(again.received.filter((m) => m.type === 'snapshot').length, 0, 'no snapshot on a resume');
  });

  test('a filtered resume replays only the view\'s events', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const { snapshot } = await connect(`${fresh.wsBase}/ws`);
    const a = await create(fresh.base, 'a');
    await create(fresh.base, 'b');
    await request(fresh.base, 'PUT', `/api/orders/${a.id}/status`, { status: 'shipped' });
    const client = new TestClient(`${fresh.wsBase}/ws?status=shipped&since=${snapshot.seq}&epoch=${snapshot.epoch}`);
    t.after(() => client.close());
    await client.next('resumed');
    await client.until(() => client.events.length === 1, 'one event');
    assert.deepEqual(client.events.map((e) => [e.order.id, e.order.status]), [[a.id, 'shipped']]);
  });

  test('a seq older than the buffer, or from another server run, gets a snapshot marked reset', async (t) => {
    const fresh = await startServer({ eventLogCapacity: 3 });
    t.after(fresh.close);
    const { snapshot } = await connect(`${fresh.wsBase}/ws`);
    for (let i = 0; i < 5; i++) await create(fresh.base, `c${i}`);
    const tooOld = new TestClient(`${fresh.wsBase}/ws?since=1&epoch=${snapshot.epoch}`);
    const otherRun = new TestClient(`${fresh.wsBase}/ws?since=5&epoch=some-earlier-run`);
    const future = new TestClient(`${fresh.wsBase}/ws?since=99&epoch=${snapshot.epoch}`);
    const inWindow = new TestClient(`${fresh.wsBase}/ws?since=2&epoch=${snapshot.epoch}`);
    t.after(() => [tooOld, otherRun, future, inWindow].forEach((c) => c.close()));
    for (const client of [tooOld, otherRun, future]) {
      const reset = await client.next('snapshot');
      assert.equal(reset.reset, true);
      assert.equal(reset.seq, 5);
      assert.equal(reset.total, 5);
    }
    await inWindow.next('resumed');
    await inWindow.until(() => inWindow.events.length === 3, 'events 3..5');
    assert.deepEqual(inWindow.events.map((e) => e.seq), [3, 4, 5]);
  });

  test('a malformed resume point is refused at the upgrade', async () => {
    await assert.rejects(new TestClient(`${srv.wsBase}/ws?since=abc&epoch=x`).opened(), /upgrade refused: 400/);
    await assert.rejects(new TestClient(`${srv.wsBase}/ws?since=3`).opened(), /upgrade refused: 400/);
  });
});

describe('client messages', () => {
  test('ping gets pong with the same id', async (t) => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    client.send({ type: 'ping', id: 'p-1' });
    assert.deepEqual(await client.next('pong'), { type: 'pong', id: 'p-1' });
  });

  test('subscribe narrows to statuses with a fresh snapshot, and still hears orders leaving the view', async (t) => {
    const order = await create();
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    client.send({ type: 'subscribe', statuses: ['processing'] });
    const snap = await client.next('snapshot');
    assert.deepEqual(snap.view, { statuses: ['processing'] });
    assert.ok(snap.orders.every((o) => o.status === 'processing'));
    assert.equal(snap.total, snap.counts.processing);
    await create(); // pending: not in view
    await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' }); // enters
    await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'shipped' }); // leaves
    await client.until(() => client.events.length >= 2, 'enter and leave events');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(client.events.map((e) => [e.order.id, e.order.status]), [
      [order.id, 'processing'],
      [order.id, 'shipped'],
    ]);
  });

  test('subscribe to one order (and back to everything)', async (t) => {
    const mine = await create(srv.base, 'mine');
    const { client } = await connect(`${srv.wsBase}/ws?order=${mine.id}`);
    t.after(() => client.close());
    assert.deepEqual(client.received[0]!.type === 'snapshot' && client.received[0]!.orders.map((o) => o.id), [mine.id]);
    await create(srv.base, 'someone else');
    await request(srv.base, 'PUT', `/api/orders/${mine.id}/status`, { status: 'cancelled' });
    await client.until(() => client.events.length >= 1, 'my update');
    assert.deepEqual(client.events.map((e) => e.order.id), [mine.id]);
    client.send({ type: 'subscribe' });
    const all = await client.next('snapshot');
    assert.deepEqual(all.view, {});
    assert.ok(all.total >= 2);
  });

  test('createOrder and updateStatus over the socket are acked and broadcast; refusals carry the requestId', async (t) => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    const { client: watcher } = await connect(`${srv.wsBase}/ws`);
    t.after(() => (client.close(), watcher.close()));
    client.send({ type: 'createOrder', requestId: 'c1', order: { customerName: 'Socket', items: ['x'] } });
    const ack = await client.next('ack');
    assert.equal(ack.requestId, 'c1');
    assert.equal(ack.order.customerName, 'Socket');
    client.send({ type: 'updateStatus', requestId: 'u1', orderId: ack.order.id, status: 'delivered', expectedVersion: 1 });
    assert.equal((await client.next('ack')).order.status, 'delivered');
    client.send({ type: 'updateStatus', requestId: 'u2', orderId: ack.order.id, status: 'pending' });
    const refusal = await client.next('error');
    assert.deepEqual([refusal.code, refusal.requestId], ['LO_ERR_BAD_TRANSITION', 'u2']);
    client.send({ type: 'updateStatus', requestId: 'u3', orderId: '01890a5d-ac96-774b-bcce-b302099a8057', status: 'shipped' });
    assert.equal((await client.next('error')).code, 'LO_ERR_NOT_FOUND');
    await watcher.until(() => watcher.events.some((e) => e.order.id === ack.order.id && e.order.status === 'delivered'), 'watcher sees it');
  });

  test('every invalid message gets an error with its code and the connection stays open', async (t) => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    for (const { text, code, name } of INVALID_CLIENT_MESSAGES) {
      client.send(text);
      const error = await client.next('error');
      assert.equal(error.code, code, name);
      assert.equal(typeof error.message, 'string');
    }
    client.send({ type: 'ping', id: 'still here' });
    assert.deepEqual(await client.next('pong'), { type: 'pong', id: 'still here' });
  });

  test('a binary frame closes with 1003', async () => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal(await client.closed, 1003);
  });

  test('an oversized frame closes with 1009 and the server carries on', async () => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    client.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(70 * 1024) }));
    assert.equal(await client.closed, 1009);
    assert.equal((await request(srv.base, 'GET', '/healthz')).status, 200);
  });

  test('invalid UTF-8 in a text frame closes with 1007', async () => {
    const { client } = await connect(`${srv.wsBase}/ws`);
    client.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
    assert.equal(await client.closed, 1007);
  });
});

describe('robustness', () => {
  test('a flood of bad input over HTTP and WebSocket leaves the data exactly as it was', async (t) => {
    // 500 messages at once is past the default message rate, which closes the socket (hostile.test.ts); here every one must be answered.
    const fresh = await startServer({ messagesPerSecond: 1000 });
    t.after(fresh.close);
    for (let i = 0; i < 20; i++) await create(fresh.base, `keep ${i}`);
    const before = (await request(fresh.base, 'GET', '/api/orders?limit=1000')).text;
    const seqBefore = fresh.server.orders.position.seq;
    const { client } = await connect(`${fresh.wsBase}/ws`);
    t.after(() => client.close());
    const junk = ['{', 'null', '[]', '{"type":"updateStatus"}', '{"type":"createOrder","order":{}}', '\u0000', '{"type":"subscribe","statuses":"all"}'];
    for (let i = 0; i < 500; i++) client.send(junk[i % junk.length]!);
    const someId = (JSON.parse(before) as Order[])[0]!.id;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        switch (i % 6) {
          case 0: return request(fresh.base, 'POST', '/api/orders', '{"customerName":');
          case 1: return request(fresh.base, 'POST', '/api/orders', { customerName: '', items: [] });
          case 2: return request(fresh.base, 'PUT', `/api/orders/${someId}/status`, { status: 'pending' });
          case 3: return request(fresh.base, 'PUT', `/api/orders/${someId}/status`, { status: 'nope' });
          case 4: return request(fresh.base, 'DELETE', '/api/orders/not-an-id');
          default: return request(fresh.base, 'POST', '/api/orders', orderBody(), { 'content-type': 'text/xml' });
        }
      }),
    );
    await client.until(() => client.received.filter((m) => m.type === 'error').length === 500, '500 errors');
    assert.equal(fresh.server.orders.position.seq, seqBefore, 'no event was emitted');
    assert.equal((await request(fresh.base, 'GET', '/api/orders?limit=1000')).text, before);
    assert.equal(client.events.length, 0);
  });

  test('closing the server sends 1001 to every client', async () => {
    const fresh = await startServer();
    const { client } = await connect(`${fresh.wsBase}/ws`);
    const { client: other } = await connect(`${fresh.wsBase}/`);
    await fresh.close();
    assert.equal(await client.closed, 1001);
    assert.equal(await other.closed, 1001);
  });

  test('a client that vanishes without a close frame is cleaned up', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const { client } = await connect(`${fresh.wsBase}/ws`);
    client.ws.terminate();
    await client.closed;
    const deadline = Date.now() + 2000;
    while (fresh.server.hub.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fresh.server.hub.size, 0);
    await create(fresh.base);
    assert.equal(((await request(fresh.base, 'GET', '/api/stats')).body as { connections: number }).connections, 0);
  });
});



describe('permessage-deflate', () => {
  test('when turned on, compressed connections still get every event (through ws, not the raw frame path)', async (t) => {
    const fresh = await startServer({ perMessageDeflate: true });
    t.after(fresh.close);
    const client = new TestClient(`${fresh.wsBase}/ws`, { perMessageDeflate: true });
    t.after(() => client.close());
    await client.opened();
    assert.match(client.ws.extensions, /permessage-deflate/);
    await client.next('snapshot');
    await create(fresh.base, 'compressed one');
    await create(fresh.base, 'compressed two');
    await client.until(() => client.events.length === 2, 'two events');
    assert.deepEqual(client.events.map((e) => e.order.customerName), ['compressed one', 'compressed two']);
  });
});
