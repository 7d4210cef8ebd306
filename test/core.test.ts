/**
 * The store's core over the memory backend: the rules (domain/decide.ts),
 * versions and seq, the projection's indexes and paging, and the one write
 * path that answers only once the projection has the change.
 */

import { isProductEvent } from '../src/domain/events.ts';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALLOWED_TRANSITIONS, ORDER_STATUSES, type Order, type OrderEvent, type OrderStatus } from '../src/protocol.ts';
import { startCore, type Core } from '../src/node.ts';
import { memoryStorage, type Storage } from '../src/store.ts';

/** A core over a memory backend, with a fake clock that ticks 1 s per call and predictable ids. */
function fixedStore(options: { now?: () => Date; newId?: () => string } = {}): Core & { storage: Storage } {
  let t = Date.parse('2026-01-01T00:00:00Z');
  let n = 0;
  const storage = memoryStorage();
  const core = startCore(storage, {
    now: options.now ?? (() => new Date((t += 1000))),
    newId: options.newId ?? (() => `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`),
  });
  return { ...core, storage };
}

async function createOrder(store: Core, name = 'Ada'): Promise<string> {
  const result = await store.commands.create({ customerName: name, items: [{ name: 'laptop', quantity: 1 }] });
  assert.ok(result.ok);
  return result.value.order.id;
}

/** Put a fresh order into `status` along the happy path. */
async function orderIn(store: Core, status: OrderStatus): Promise<string> {
  const id = await createOrder(store);
  if (status !== 'pending') assert.ok((await store.commands.changeStatus(id, status)).ok);
  return id;
}

describe('status machine', () => {
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      const legal = ALLOWED_TRANSITIONS[from].includes(to);
      test(`${from} -> ${to} is ${legal ? 'allowed' : 'refused'}`, async () => {
        const store = fixedStore();
        const id = await orderIn(store, from);
        const before = store.projection.get(id)!;
        const seq = store.projection.seq;
        const result = await store.commands.changeStatus(id, to);
        if (legal) {
          assert.ok(result.ok);
          assert.equal(result.value.order.status, to);
          assert.equal(result.value.order.version, before.version + 1);
          assert.deepEqual(
            result.value.order.history.map((h) => h.status),
            [...before.history.map((h) => h.status), to],
          );
          assert.equal(result.value.seq, seq + 1);
          assert.equal(store.projection.get(id), result.value.order, 'the projection has it when the command answers');
        } else {
          assert.ok(!result.ok);
          assert.equal(result.error.code, 'LO_ERR_BAD_TRANSITION');
          assert.deepEqual(result.error.details.allowed, ALLOWED_TRANSITIONS[from]);
          assert.strictEqual(store.projection.get(id), before, 'a refused move changes nothing');
          assert.equal(store.projection.seq, seq, 'a refused move emits nothing');
        }
      });
    }
  }

  test('only delivered and cancelled are final, and skipping ahead is recorded', async () => {
    assert.deepEqual(
      ORDER_STATUSES.filter((s) => ALLOWED_TRANSITIONS[s].length === 0),
      ['delivered', 'cancelled'],
    );
    const store = fixedStore();
    const id = await orderIn(store, 'delivered');
    assert.deepEqual(
      store.projection.get(id)!.history.map((h) => h.status),
      ['pending', 'delivered'],
    );
  });
});

describe('orders', () => {
  test('create normalises, stamps times, starts at version 1 and pending', async () => {
    const store = fixedStore();
    const result = await store.commands.create({ customerName: 'Ada', customerEmail: 'ada@example.com', items: [{ name: 'laptop', quantity: 2, price: 999.99 }] });
    assert.ok(result.ok);
    const order = result.value.order;
    assert.equal(order.status, 'pending');
    assert.equal(order.version, 1);
    assert.equal(order.total, 1999.98);
    assert.equal(order.createdAt, '2026-01-01T00:00:01.000Z');
    assert.equal(order.updatedAt, order.createdAt);
    assert.deepEqual(order.history, [{ status: 'pending', at: order.createdAt }]);
    assert.equal(result.value.seq, 1);
    assert.equal(result.value.replayed, false);
  });

  test('total is present only when every item has a price, and is exact to the cent', async () => {
    const store = fixedStore();
    const totalOf = async (items: { name: string; quantity: number; price?: number }[]): Promise<number | undefined> => {
      const result = await store.commands.create({ customerName: 'A', items });
      assert.ok(result.ok);
      return result.value.order.total;
    };
    assert.equal(await totalOf([{ name: 'a', quantity: 3, price: 0.1 }, { name: 'b', quantity: 1, price: 0.2 }]), 0.5);
    assert.equal(await totalOf([{ name: 'a', quantity: 1, price: 1 }, { name: 'b', quantity: 1 }]), undefined);
    assert.equal(await totalOf([{ name: 'a', quantity: 1, price: 0 }]), 0);
  });

  test('updatedAt moves with each change; createdAt does not', async () => {
    const store = fixedStore();
    const id = await createOrder(store);
    const created = store.projection.get(id)!;
    const result = await store.commands.changeStatus(id, 'processing');
    assert.ok(result.ok);
    assert.equal(result.value.order.createdAt, created.createdAt);
    assert.ok(result.value.order.updatedAt > created.updatedAt);
    assert.equal(result.value.order.history[1]!.at, result.value.order.updatedAt);
  });

  test('expectedVersion guards status changes and deletes', async () => {
    const store = fixedStore();
    const id = await createOrder(store);
    const stale = await store.commands.changeStatus(id, 'processing', 2);
    assert.ok(!stale.ok);
    assert.equal(stale.error.code, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(stale.error.details.currentVersion, 1);
    assert.ok((await store.commands.changeStatus(id, 'processing', 1)).ok);
    const staleDelete = await store.commands.delete(id, 1);
    assert.ok(!staleDelete.ok);
    assert.equal(staleDelete.error.code, 'LO_ERR_VERSION_MISMATCH');
    assert.ok((await store.commands.delete(id, 2)).ok);
    assert.equal(store.projection.get(id), undefined);
  });

  test('unknown ids are NOT_FOUND for change and delete', async () => {
    const store = fixedStore();
    const id = '00000000-0000-7000-8000-999999999999';
    const change = await store.commands.changeStatus(id, 'processing');
    const del = await store.commands.delete(id);
    assert.ok(!change.ok && !del.ok);
    assert.equal(change.error.code, 'LO_ERR_NOT_FOUND');
    assert.equal(del.error.code, 'LO_ERR_NOT_FOUND');
    assert.equal(store.projection.seq, 0);
  });

  test('every change reaches every tail once, in order, with a gap-free seq; refusals reach none', async () => {
    const store = fixedStore();
    const seen: OrderEvent[] = [];
    const seenToo: number[] = [];
    store.storage.log.tail(0, (events) => seen.push(...events.filter((e): e is OrderEvent => !isProductEvent(e))));
    const off = store.storage.log.tail(0, (events) => seenToo.push(...events.map((e) => e.seq)));
    const a = await createOrder(store);
    const b = await createOrder(store);
    await store.commands.changeStatus(a, 'shipped');
    await store.commands.changeStatus(b, 'delivered'); // pending -> delivered is allowed (skip)
    await store.commands.changeStatus(b, 'cancelled'); // refused: delivered is final
    off();
    await store.commands.delete(a);
    assert.deepEqual(
      seen.map((e) => [e.seq, e.type]),
      [
        [1, 'order.created'],
        [2, 'order.created'],
        [3, 'order.updated'],
        [4, 'order.updated'],
        [5, 'order.deleted'],
      ],
    );
    assert.deepEqual(seenToo, [1, 2, 3, 4]);
    const deleted = seen[4]!;
    assert.equal(deleted.type, 'order.deleted');
    assert.equal(deleted.order.status, 'shipped', 'a delete carries the last state');
    assert.equal(store.projection.seq, 5);
  });

  test('a tail started late gets the history it missed first, then what comes', async () => {
    const store = fixedStore();
    await createOrder(store);
    await createOrder(store);
    const seqs: number[] = [];
    store.storage.log.tail(0, (events) => seqs.push(...events.map((e) => e.seq)));
    await createOrder(store);
    assert.deepEqual(seqs, [1, 2, 3]);
  });
});

describe('listing and counts', () => {
  test('newest first, cursor paging visits every order exactly once, totals and counts from indexes', async () => {
    const store = fixedStore();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await createOrder(store, `c${i}`));
    for (const id of ids.slice(0, 10)) await store.commands.changeStatus(id, 'processing');
    for (const id of ids.slice(0, 3)) await store.commands.changeStatus(id, 'cancelled');
    await store.commands.delete(ids[24]!);

    assert.deepEqual(store.projection.counts(), { pending: 14, processing: 7, shipped: 0, delivered: 0, cancelled: 3 });
    const all: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = store.projection.list({ limit: 7, ...(cursor === undefined ? {} : { before: cursor }) });
      assert.equal(page.total, 24);
      all.push(...page.orders.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, 4);
    assert.deepEqual(all, ids.slice(0, 24).reverse());
  });

  test('a status filter merges the per-status indexes newest first', async () => {
    const store = fixedStore();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await createOrder(store));
    await store.commands.changeStatus(ids[1]!, 'processing');
    await store.commands.changeStatus(ids[4]!, 'cancelled');
    const page = store.projection.list({ view: { statuses: ['processing', 'cancelled'] }, limit: 10 });
    assert.deepEqual(page.orders.map((o) => o.id), [ids[4], ids[1]]);
    assert.equal(page.total, 2);
    assert.equal(page.nextCursor, undefined);
    const first = store.projection.list({ view: { statuses: ['pending', 'cancelled'] }, limit: 2 });
    assert.deepEqual(first.orders.map((o) => o.id), [ids[5], ids[4]]);
    assert.equal(first.nextCursor, ids[4]);
    const second = store.projection.list({ view: { statuses: ['pending', 'cancelled'] }, limit: 2, before: first.nextCursor! });
    assert.deepEqual(second.orders.map((o) => o.id), [ids[3], ids[2]]);
  });

  test('a cursor still works after its order was deleted', async () => {
    const store = fixedStore();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createOrder(store));
    const page = store.projection.list({ limit: 2 });
    await store.commands.delete(page.nextCursor!);
    const next = store.projection.list({ limit: 10, before: page.nextCursor! });
    assert.deepEqual(next.orders.map((o) => o.id), [ids[2], ids[1], ids[0]]);
  });

  test('an order-id view lists at most that order', async () => {
    const store = fixedStore();
    const id = await createOrder(store);
    await createOrder(store);
    assert.deepEqual(store.projection.list({ view: { orderId: id }, limit: 10 }).orders.map((o) => o.id), [id]);
    assert.equal(store.projection.list({ view: { orderId: id, statuses: ['shipped'] }, limit: 10 }).total, 0);
  });

  test('ids out of order (a clock step back) still list newest-id first', async () => {
    const ids = ['00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002'];
    let i = 0;
    const store = fixedStore({ newId: () => ids[i++]! });
    for (let k = 0; k < 3; k++) await createOrder(store);
    assert.deepEqual(store.projection.list({ limit: 10 }).orders.map((o) => o.id), [...ids].sort().reverse());
  });
});

describe('timestamps', () => {
  test('are the clock\'s time in ISO 8601, also when several writes share a millisecond', async () => {
    const times = [0, 0, 0, 1, 1, 86_400_000];
    let call = 0;
    const store = fixedStore({ now: () => new Date(times[call++]!) });
    const first = await store.commands.create({ customerName: 'A', items: [{ name: 'x', quantity: 1 }] });
    const second = await store.commands.create({ customerName: 'B', items: [{ name: 'x', quantity: 1 }] });
    assert.ok(first.ok && second.ok);
    const moved = await store.commands.changeStatus(first.value.order.id, 'processing');
    const third = await store.commands.create({ customerName: 'C', items: [{ name: 'x', quantity: 1 }] });
    const movedAgain = await store.commands.changeStatus(first.value.order.id, 'shipped');
    const fourth = await store.commands.create({ customerName: 'D', items: [{ name: 'x', quantity: 1 }] });
    assert.ok(moved.ok && third.ok && movedAgain.ok && fourth.ok);
    assert.deepEqual(
      [first, second, third, fourth].map((r) => r.value.order.createdAt),
      ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z', '1970-01-02T00:00:00.000Z'],
    );
    assert.equal(moved.value.order.updatedAt, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(movedAgain.value.order.history.map((h) => h.at), ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z']);
    // Orders created in one millisecond share their first history; changing one leaves the others' as they were.
    for (const created of [first, second, third, fourth]) {
      const { id, createdAt } = created.value.order;
      const stored: Order = id === first.value.order.id ? first.value.order : store.projection.get(id)!;
      assert.deepEqual(stored.history, [{ status: 'pending', at: createdAt }]);
    }
  });

  test('a clock that returns an invalid date is refused, as toISOString refuses it', async () => {
    const store = fixedStore({ now: () => new Date(Number.NaN) });
    await assert.rejects(store.commands.create({ customerName: 'A', items: [{ name: 'x', quantity: 1 }] }), RangeError);
    assert.equal(store.projection.size, 0);
  });
});
