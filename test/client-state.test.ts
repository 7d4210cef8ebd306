/** The page's pure state and URL helpers, without a DOM. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, BACKOFF } from '../client/stream/backoff.ts';
import { addOlder, awaitSnapshot, initialState, reduce, resumePoint, type BoardState } from '../client/state.ts';

const ordersNewestFirst = (state: BoardState) => state.list;
import { detailHash, formatFilter, parseDetailHash, parseFilter, toggleStatus } from '../client/url-state.ts';
import type { Order, OrderStatus, SnapshotMessage } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';

const COUNTS = { pending: 0, processing: 0, shipped: 0, delivered: 0, cancelled: 0 };

function order(n: number, status: OrderStatus = 'pending', version = 1): Order {
  return { ...SAMPLE_ORDER, id: `01890a5d-ac96-774b-bcce-${String(n).padStart(12, '0')}`, status, version };
}

function snapshot(orders: Order[], extra: Partial<SnapshotMessage> = {}): SnapshotMessage {
  const counts = { ...COUNTS };
  for (const o of orders) counts[o.status]++;
  return { type: 'snapshot', seq: 10, epoch: 's1', view: {}, orders, total: orders.length, counts, limit: 1000, ...extra };
}

describe('reduce', () => {
  test('a snapshot replaces everything and sets the older-page cursor when cut', () => {
    const stale = reduce(initialState(), snapshot([order(9)]));
    const state = reduce(stale, snapshot([order(3), order(2)], { total: 5, seq: 20 }));
    assert.deepEqual([...state.orders.keys()], [order(3).id, order(2).id]);
    assert.equal(state.seq, 20);
    assert.equal(state.total, 5);
    assert.equal(state.olderCursor, order(2).id);
    assert.equal(state.synced, true);
  });

  test('events apply once, in order; older or repeated seqs are ignored', () => {
    let state = reduce(initialState(), snapshot([order(1)]));
    state = reduce(state, {
      type: 'events',
      events: [
        { type: 'order.created', seq: 9, order: order(99) }, // already in the snapshot's past
        { type: 'order.created', seq: 11, order: order(2) },
        { type: 'order.updated', seq: 12, order: order(1, 'shipped', 2), previousStatus: 'pending' },
      ],
    });
    state = reduce(state, { type: 'events', events: [{ type: 'order.created', seq: 11, order: order(2) }] });
    assert.equal(state.seq, 12);
    assert.deepEqual(ordersNewestFirst(state).map((o) => [o.id, o.status]), [
      [order(2).id, 'pending'],
      [order(1).id, 'shipped'],
    ]);
    assert.deepEqual(state.counts, { ...COUNTS, pending: 1, shipped: 1 });
    assert.equal(state.total, 2);
    assert.equal(state.outOfSync, false);
    assert.deepEqual(state.applied, []);
  });

  test('deletes remove the order and fix counts and total', () => {
    let state = reduce(initialState(), snapshot([order(1), order(2)]));
    state = reduce(state, { type: 'events', events: [{ type: 'order.deleted', seq: 11, order: order(1) }] });
    assert.deepEqual([...state.orders.keys()], [order(2).id]);
    assert.equal(state.total, 1);
    assert.equal(state.counts.pending, 1);
  });

  test('in a status view, an order that leaves the view is dropped and the total follows', () => {
    let state = reduce(initialState(), snapshot([order(1)], { view: { statuses: ['pending'] } }));
    state = reduce(state, { type: 'events', events: [{ type: 'order.updated', seq: 11, order: order(1, 'processing', 2), previousStatus: 'pending' }] });
    assert.equal(state.orders.size, 0);
    assert.equal(state.total, 0);
    assert.equal(state.counts.processing, 1);
  });

  test('a skipped seq in an unfiltered stream marks the state out of sync', () => {
    const state = reduce(reduce(initialState(), snapshot([])), { type: 'events', events: [{ type: 'order.created', seq: 12, order: order(1) }] });
    assert.equal(state.outOfSync, true);
  });

  test('older pages merge without overwriting newer versions, and end the cursor', () => {
    let state = reduce(initialState(), snapshot([order(5)], { total: 3 }));
    state = reduce(state, { type: 'events', events: [{ type: 'order.updated', seq: 11, order: order(4, 'shipped', 2), previousStatus: 'pending' }] });
    state = addOlder(state, [order(4), order(3)], undefined);
    assert.deepEqual(ordersNewestFirst(state).map((o) => [o.id, o.version]), [
      [order(5).id, 1],
      [order(4).id, 2],
      [order(3).id, 1],
    ]);
    assert.equal(state.olderCursor, undefined);
  });

  test('awaitSnapshot keeps the orders but marks them unsynced', () => {
    const state = awaitSnapshot(reduce(initialState(), snapshot([order(1)])), { statuses: ['shipped'] });
    assert.equal(state.synced, false);
    assert.equal(state.orders.size, 1);
    assert.deepEqual(state.view, { statuses: ['shipped'] });
  });
});

describe('resume point', () => {
  test('resumes from the last applied seq, but not when the wanted view differs from the data held', () => {
    assert.equal(resumePoint(initialState()), undefined, 'nothing to resume before a snapshot');
    let state = reduce(initialState(), snapshot([order(1)], { seq: 10 }));
    state = reduce(state, { type: 'events', events: [{ type: 'order.created', seq: 11, order: order(2) }] });
    assert.deepEqual(resumePoint(state), { since: 11, epoch: 's1' });
    assert.deepEqual(resumePoint(awaitSnapshot(state, {})), { since: 11, epoch: 's1' }, 'a reconnect keeps the view');
    assert.equal(resumePoint(awaitSnapshot(state, { statuses: ['shipped'] })), undefined, 'a filter changed while offline');
  });

  test('a resumed message keeps the data and marks it synced', () => {
    const state = awaitSnapshot(reduce(initialState(), snapshot([order(1)])), {});
    const resumed = reduce(state, { type: 'resumed', epoch: 's1', since: 10, seq: 12, view: {} });
    assert.equal(resumed.synced, true);
    assert.equal(resumed.orders.size, 1);
    assert.equal(resumed.seq, 10, 'the missed events are still to come');
  });
});

describe('url state', () => {
  test('filters round-trip through the query string', () => {
    const filter = parseFilter('?status=shipped,pending,bogus&q=%20ada%20');
    assert.deepEqual(filter, { statuses: ['pending', 'shipped'], q: 'ada' });
    assert.equal(formatFilter(filter), '?status=pending,shipped&q=ada');
    assert.equal(formatFilter({ statuses: [], q: '' }), '');
    assert.deepEqual(toggleStatus(filter, 'pending'), { statuses: ['shipped'], q: 'ada' });
  });

  test('only a well-formed order id opens the detail view', () => {
    assert.equal(parseDetailHash(detailHash(SAMPLE_ORDER.id)), SAMPLE_ORDER.id);
    assert.equal(parseDetailHash('#/orders/<script>'), undefined);
    assert.equal(parseDetailHash('#/other'), undefined);
  });
});

describe('reconnect backoff', () => {
  test('doubles from the initial delay, is capped, and keeps at least half as jitter floor', () => {
    assert.equal(backoffDelay(0, 0), BACKOFF.initialMs / 2);
    assert.equal(backoffDelay(0, 0.999999), BACKOFF.initialMs);
    assert.equal(backoffDelay(3, 1), BACKOFF.initialMs * 8);
    assert.equal(backoffDelay(30, 1), BACKOFF.maxMs);
    assert.equal(backoffDelay(30, 0), BACKOFF.maxMs / 2);
  });
});

describe('the sorted list', () => {
  test('stays equal to the map, newest first, through random creates, moves, deletes and older pages', () => {
    let random = 42;
    const next = (n: number): number => ((random = (random * 1103515245 + 12345) % 2 ** 31), random % n);
    let state = reduce(initialState({ statuses: ['pending', 'processing'] }), snapshot([], { view: { statuses: ['pending', 'processing'] }, seq: 0 }));
    const live = new Map<number, Order>();
    let seq = 0;
    for (let step = 0; step < 2000; step++) {
      const n = next(300);
      const existing = live.get(n);
      if (existing === undefined) {
        const o = order(n);
        live.set(n, o);
        state = reduce(state, { type: 'events', events: [{ type: 'order.created', seq: ++seq, order: o }] });
      } else if (next(4) === 0) {
        live.delete(n);
        state = reduce(state, { type: 'events', events: [{ type: 'order.deleted', seq: ++seq, order: existing }] });
      } else {
        const status = (['pending', 'processing', 'shipped'] as const)[next(3)]!;
        const moved = { ...existing, status, version: existing.version + 1 };
        live.set(n, moved);
        state = reduce(state, { type: 'events', events: [{ type: 'order.updated', seq: ++seq, order: moved, previousStatus: existing.status }] });
      }
      if (step % 500 === 0) state = addOlder(state, [order(1000 + step)], undefined);
    }
    const fromMap = [...state.orders.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    assert.deepEqual(state.list, fromMap);
    assert.ok(state.list.every((o) => o.status === 'pending' || o.status === 'processing'));
    assert.equal(state.total, state.orders.size - 4, 'older pages are not counted as new orders');
  });
});
