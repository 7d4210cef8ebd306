/** The hub with fake subscribers: encode once, coalescing, views, no duplicates after a snapshot, slow consumers. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OutgoingMessage } from '../src/fanout/frame.ts';
import { Hub, type Subscriber } from '../src/fanout/hub.ts';
import { parseServerMessage, type OrderEvent, type OrderStatus } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';

class FakeSubscriber implements Subscriber {
  frames: Buffer[] = [];
  messages: OutgoingMessage[] = [];
  /** Set to refuse messages, as a closing or too slow socket does. */
  refuses = false;
  send(message: OutgoingMessage): boolean {
    if (this.refuses) return false;
    this.messages.push(message);
    this.frames.push(message.payload);
    return true;
  }
  seqs(): number[] {
    return this.frames.flatMap((f) => {
      const m = parseServerMessage(f.toString());
      assert.ok(m.ok && m.value.type === 'events');
      return m.value.events.map((e) => e.seq);
    });
  }
}

/** A hub whose flushes run only when the test says so. */
function manualHub(): { hub: Hub; flushes: () => number } {
  let scheduled = 0;
  const hub = new Hub({ schedule: () => scheduled++ });
  return { hub, flushes: () => scheduled };
}

function created(seq: number, status: OrderStatus = 'pending', id: string = SAMPLE_ORDER.id): OrderEvent {
  return { type: 'order.created', seq, order: { ...SAMPLE_ORDER, id, status } };
}

describe('hub', () => {
  test('events of one turn go out as one frame, and every subscriber gets the very same Buffer', () => {
    const { hub, flushes } = manualHub();
    const subs = [new FakeSubscriber(), new FakeSubscriber(), new FakeSubscriber()];
    for (const s of subs) hub.subscribe(s, {}, 0);
    hub.publish(created(1));
    hub.publish(created(2));
    hub.publish(created(3));
    assert.equal(flushes(), 1, 'one flush scheduled for the whole burst');
    hub.flush();
    for (const s of subs) {
      assert.equal(s.frames.length, 1);
      assert.deepEqual(s.seqs(), [1, 2, 3]);
      assert.strictEqual(s.messages[0], subs[0]!.messages[0], 'encoded and framed once, shared');
    }
    assert.deepEqual(hub.stats(), { subscribers: 3, eventsSent: 9, framesSent: 3 });
  });

  test('views filter events; an update reaches a view its order is leaving', () => {
    const { hub } = manualHub();
    const pendingOnly = new FakeSubscriber();
    const shippedOnly = new FakeSubscriber();
    const oneOrder = new FakeSubscriber();
    const otherId = '01890a5d-ac96-774b-bcce-000000000001';
    hub.subscribe(pendingOnly, { statuses: ['pending'] }, 0);
    hub.subscribe(shippedOnly, { statuses: ['shipped'] }, 0);
    hub.subscribe(oneOrder, { orderId: otherId }, 0);
    hub.publish(created(1));
    hub.publish({ type: 'order.updated', seq: 2, order: { ...SAMPLE_ORDER, status: 'shipped', version: 2 }, previousStatus: 'pending' });
    hub.publish(created(3, 'pending', otherId));
    hub.flush();
    assert.deepEqual(pendingOnly.seqs(), [1, 2, 3]);
    assert.deepEqual(shippedOnly.seqs(), [2]);
    assert.deepEqual(oneOrder.seqs(), [3]);
  });

  test("watchers of one order each get that order's events only; wider views still get every event", () => {
    const { hub } = manualHub();
    const ids = Array.from({ length: 100 }, (_, i) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`);
    const trackers = ids.map((id) => {
      const sub = new FakeSubscriber();
      hub.subscribe(sub, { orderId: id }, 0);
      return sub;
    });
    const everything = new FakeSubscriber();
    const order3Shipped = new FakeSubscriber();
    hub.subscribe(everything, {}, 0);
    hub.subscribe(order3Shipped, { orderId: ids[3]!, statuses: ['shipped'] }, 0);
    for (let i = 0; i < 5; i++) hub.publish(created(i + 1, 'pending', ids[i]));
    hub.publish({ type: 'order.updated', seq: 6, order: { ...SAMPLE_ORDER, id: ids[3]!, status: 'shipped', version: 2 }, previousStatus: 'pending' });
    hub.publish(created(7, 'pending', ids[3]));
    hub.flush();
    assert.deepEqual(everything.seqs(), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(trackers[0]!.seqs(), [1]);
    assert.deepEqual(trackers[3]!.seqs(), [4, 6, 7], "one frame with all of order 3's events, in seq order");
    assert.equal(trackers[3]!.frames.length, 1);
    assert.deepEqual(order3Shipped.seqs(), [6]);
    assert.deepEqual(trackers.slice(5).map((t) => t.frames.length), new Array(95).fill(0), 'no frame for orders that did not change');
    assert.deepEqual(hub.stats(), { subscribers: 102, eventsSent: 7 + 5 + 2 + 1, framesSent: 7 });
  });

  test('subscribing again moves a subscriber to its new view; a view nobody watches any more is forgotten', () => {
    const { hub } = manualHub();
    const a = '01890a5d-ac96-774b-bcce-00000000000a';
    const b = '01890a5d-ac96-774b-bcce-00000000000b';
    const sub = new FakeSubscriber();
    hub.subscribe(sub, { orderId: a }, 0);
    hub.subscribe(sub, { orderId: b }, 0);
    assert.equal(hub.size, 1);
    hub.publish(created(1, 'pending', a));
    hub.publish(created(2, 'pending', b));
    hub.flush();
    assert.deepEqual(sub.seqs(), [2]);
    hub.subscribe(sub, { statuses: ['shipped'] }, 2);
    hub.publish(created(3, 'pending', b));
    hub.flush();
    assert.deepEqual(sub.seqs(), [2], 'no longer watching order b');
    hub.unsubscribe(sub);
    assert.equal(hub.size, 0);
    const again = new FakeSubscriber();
    hub.subscribe(again, { orderId: a }, 3);
    hub.publish(created(4, 'pending', a));
    hub.flush();
    assert.deepEqual(again.seqs(), [4], 'a view left empty and watched again works like new');
  });

  test('a subscriber that joined mid-turn skips events its snapshot already has', () => {
    const { hub } = manualHub();
    const early = new FakeSubscriber();
    const late = new FakeSubscriber();
    hub.subscribe(early, {}, 0);
    hub.publish(created(1));
    hub.publish(created(2));
    hub.subscribe(late, {}, 2); // its snapshot was taken at seq 2
    hub.publish(created(3));
    hub.flush();
    assert.deepEqual(early.seqs(), [1, 2, 3]);
    assert.deepEqual(late.seqs(), [3]);
  });

  test("a watcher of one order that joined mid-turn skips that order's events its snapshot already has", () => {
    const { hub } = manualHub();
    const id = '01890a5d-ac96-774b-bcce-00000000000c';
    const early = new FakeSubscriber();
    const late = new FakeSubscriber();
    const later = new FakeSubscriber();
    hub.subscribe(early, { orderId: id }, 0);
    hub.publish(created(1, 'pending', id));
    hub.subscribe(late, { orderId: id }, 1);
    hub.publish({ type: 'order.updated', seq: 2, order: { ...SAMPLE_ORDER, id, status: 'processing', version: 2 }, previousStatus: 'pending' });
    hub.subscribe(later, { orderId: id }, 2);
    hub.flush();
    assert.deepEqual(early.seqs(), [1, 2]);
    assert.deepEqual(late.seqs(), [2]);
    assert.equal(later.frames.length, 0, 'its snapshot already had both');
  });

  test('a subscriber that refuses a frame (closing, or dropped as slow by its socket) is unsubscribed; others still get the frame', () => {
    const { hub } = manualHub();
    const closing = new FakeSubscriber();
    const fine = new FakeSubscriber();
    closing.refuses = true;
    hub.subscribe(closing, {}, 0);
    hub.subscribe(fine, {}, 0);
    hub.publish(created(1));
    hub.flush();
    assert.equal(closing.frames.length, 0);
    assert.deepEqual(fine.seqs(), [1]);
    assert.equal(hub.size, 1);
    closing.refuses = false;
    hub.publish(created(2));
    hub.flush();
    assert.equal(closing.frames.length, 0, 'nothing more is offered to it');
  });

  test('a subscriber whose send throws is dropped without disturbing the others', () => {
    const errors: unknown[] = [];
    const hub = new Hub({ schedule: () => undefined, onSendError: (_s, e) => errors.push(e) });
    const broken: Subscriber = { send: () => { throw new Error('socket gone'); } };
    const fine = new FakeSubscriber();
    hub.subscribe(broken, {}, 0);
    hub.subscribe(fine, {}, 0);
    hub.publish(created(1));
    hub.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual(fine.seqs(), [1]);
    assert.equal(hub.size, 1);
  });

  test('the default scheduler flushes on the next turn with no timer delay', async () => {
    const hub = new Hub();
    const sub = new FakeSubscriber();
    hub.subscribe(sub, {}, 0);
    hub.publish(created(1));
    assert.equal(sub.frames.length, 0, 'not synchronous: a burst can still join');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sub.seqs(), [1]);
  });
});
