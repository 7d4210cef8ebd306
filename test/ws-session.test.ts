/** One session without a network: the snapshot and the hub's queued events never overlap. */

import { isProductEvent } from '../src/domain/events.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessControl } from '../src/security/access.ts';
import { ConnectCache } from '../src/fanout/connect-cache.ts';
import type { OutgoingMessage } from '../src/fanout/frame.ts';
import type { SessionSocket } from '../src/transport/ws/client-socket.ts';
import { Hub } from '../src/fanout/hub.ts';
import { parseServerMessage, type ServerMessage } from '../src/protocol.ts';
import { startCore, type Core } from '../src/node.ts';
import { memoryStorage } from '../src/store.ts';
import { EventRing } from '../src/store/event-ring.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { handleClientMessage, type Session, type SessionContext } from '../src/transport/ws/session.ts';
import { Presence } from '../src/transport/ws/presence.ts';
import { openSession } from '../src/transport/ws/sync.ts';
import { captureLogger } from './helpers.ts';

class FakeSocket implements SessionSocket {
  readonly messages: ServerMessage[] = [];
  open = true;
  send(message: OutgoingMessage, onWritten?: () => void): boolean {
    const parsed = parseServerMessage(message.payload.toString());
    assert.ok(parsed.ok);
    this.messages.push(parsed.value);
    onWritten?.();
    return true;
  }
  close(): void {
    this.open = false;
  }
  seqs(): number[] {
    return this.messages.flatMap((m) => (m.type === 'events' ? m.events.map((e) => e.seq) : []));
  }
}

/** Sessions over a memory backend; the hub flushes only when a test says so. */
function context(): SessionContext & { core: Core; create: () => Promise<string> } {
  const storage = memoryStorage();
  const hub = new Hub({ schedule: () => undefined }); // flushed by hand below
  const ring = new EventRing(100);
  const core = startCore(storage, {
    newId: createOrderIdGenerator(),
    onEvents: (events) => {
      for (const e of events) {
        ring.append(e);
        if (!isProductEvent(e)) hub.publish(e);
      }
    },
  });
  const { projection: orders, commands } = core;
  const access = new AccessControl({ tokens: [], writeRatePerMinute: 600, connectionsPerAddress: 100, limitLoopback: false, orderExists: (id) => orders.get(id) !== undefined });
  const create = async (): Promise<string> => {
    const created = await commands.create(order);
    assert.ok(created.ok);
    return created.value.order.id;
  };
  return { orders, commands, ring, source: storage.log, hub, connectCache: new ConnectCache(), resumes: { fromRing: 0, fromHistory: 0, reset: 0 }, logger: captureLogger().logger, access, presence: new Presence(), core, create };
}

/** A session in open mode around a fake socket. */
function open(socket: FakeSocket): Session {
  return { socket, principal: { kind: 'open' } };
}

const order = { customerName: 'A', items: [{ name: 'x', quantity: 1 }] };

test('a snapshot taken while events are queued is not followed by those events again', async () => {
  const ctx = context();
  await ctx.create();
  await ctx.create(); // seq 1 and 2 queued, not yet flushed
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10 });
  await ctx.create(); // seq 3 after the snapshot
  ctx.hub.flush();
  const [snapshot] = socket.messages;
  assert.equal(snapshot?.type === 'snapshot' && snapshot.seq, 2);
  assert.deepEqual(socket.seqs(), [3]);
});

test('a resume while events are queued replays them once and the flush does not repeat them', async () => {
  const ctx = context();
  await ctx.create();
  ctx.hub.flush();
  await ctx.create();
  await ctx.create(); // seq 2 and 3 queued
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10, resume: { seq: 1, epoch: ctx.orders.position.epoch } });
  ctx.hub.flush();
  assert.equal(socket.messages[0]?.type, 'resumed');
  assert.deepEqual(socket.seqs(), [2, 3]);
});

test('subscribe answers with a snapshot of the new view; later events follow that view only', async () => {
  const ctx = context();
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10 });
  await ctx.create(); // seq 1 queued for the old view
  handleClientMessage(ctx, open(socket), '{"type":"subscribe","statuses":["shipped"]}');
  const created = await ctx.create(); // pending: outside the new view
  await ctx.commands.changeStatus(created, 'shipped');
  ctx.hub.flush();
  const snapshot = socket.messages[1];
  assert.ok(snapshot?.type === 'snapshot');
  assert.deepEqual(snapshot.view, { statuses: ['shipped'] });
  assert.equal(snapshot.seq, 1);
  assert.deepEqual(socket.seqs(), [3]);
});

test('snapshots are encoded once per view and seq, and rebuilt after a change', async () => {
  const ctx = context();
  await ctx.create();
  const a = new FakeSocket();
  const b = new FakeSocket();
  const sent: unknown[] = [];
  for (const socket of [a, b]) {
    const original = socket.send.bind(socket);
    socket.send = (message, onWritten) => {
      sent.push(message);
      return original(message, onWritten);
    };
    openSession(ctx, open(socket), { view: {}, limit: 10 });
  }
  assert.strictEqual(sent[0], sent[1], 'the same encoded bytes for both');
  await ctx.create();
  const c = new FakeSocket();
  openSession(ctx, open(c), { view: {}, limit: 10 });
  const fresh = c.messages[0];
  assert.ok(fresh?.type === 'snapshot');
  assert.equal(fresh.seq, 2);
  assert.equal(fresh.orders.length, 2);
});

test('clients resuming from the same point share one encoded replay, rebuilt after a change; nothing to replay sends nothing', async () => {
  const ctx = context();
  for (let i = 0; i < 3; i++) await ctx.create();
  ctx.hub.flush();
  /** The raw messages a resuming session is sent, after `resumed`. */
  const replayOf = (view: { statuses?: ['shipped'] }, since: number): OutgoingMessage[] => {
    const socket = new FakeSocket();
    const sent: OutgoingMessage[] = [];
    const original = socket.send.bind(socket);
    socket.send = (message, onWritten) => {
      sent.push(message);
      return original(message, onWritten);
    };
    openSession(ctx, open(socket), { view, limit: 10, resume: { seq: since, epoch: ctx.orders.position.epoch } });
    assert.equal(socket.messages[0]?.type, 'resumed');
    return sent.slice(1);
  };
  const [first] = replayOf({}, 1);
  const [second] = replayOf({}, 1);
  assert.ok(first !== undefined && first.frame !== undefined, 'framed once, for the raw write path');
  assert.strictEqual(second, first, 'the same encoded bytes for both');
  assert.deepEqual(JSON.parse(first.payload.toString()).events.map((e: { seq: number }) => e.seq), [2, 3]);
  const [fromZero] = replayOf({}, 0);
  assert.deepEqual(JSON.parse(fromZero!.payload.toString()).events.map((e: { seq: number }) => e.seq), [1, 2, 3], 'another resume point');
  assert.deepEqual(replayOf({ statuses: ['shipped'] }, 1), [], 'no shipped orders: no events message at all');
  await ctx.create();
  const [afterChange] = replayOf({}, 1);
  assert.notStrictEqual(afterChange, first);
  assert.deepEqual(JSON.parse(afterChange!.payload.toString()).events.map((e: { seq: number }) => e.seq), [2, 3, 4]);
});
