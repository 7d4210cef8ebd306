/** One session without a network: the snapshot and the hub's queued events never overlap. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessControl } from '../src/security/access.ts';
import { ConnectCache } from '../src/fanout/connect-cache.ts';
import { EventLog } from '../src/fanout/ring.ts';
import type { OutgoingMessage } from '../src/fanout/frame.ts';
import type { SessionSocket } from '../src/transport/ws/client-socket.ts';
import { Hub } from '../src/fanout/hub.ts';
import { parseServerMessage, type ServerMessage } from '../src/protocol.ts';
import { MemoryOrderStore } from '../src/store.ts';
import { handleClientMessage, openSession, type Session, type SessionContext } from '../src/transport/ws/session.ts';
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

function context(): SessionContext {
  const store = new MemoryOrderStore();
  const hub = new Hub({ schedule: () => undefined }); // flushed by hand below
  const eventLog = new EventLog(100);
  store.onEvent((e) => {
    eventLog.append(e);
    hub.publish(e);
  });
  const access = new AccessControl({ tokens: [], writeRatePerMinute: 600, connectionsPerAddress: 100, limitLoopback: false, orderExists: (id) => store.get(id) !== undefined });
  return { store, hub, eventLog, connectCache: new ConnectCache(), serverId: 'run', logger: captureLogger().logger, access };
}

/** A session in open mode around a fake socket. */
function open(socket: FakeSocket): Session {
  return { socket, principal: { kind: 'open' } };
}

const order = { customerName: 'A', items: [{ name: 'x', quantity: 1 }] };

test('a snapshot taken while events are queued is not followed by those events again', () => {
  const ctx = context();
  ctx.store.create(order);
  ctx.store.create(order); // seq 1 and 2 queued, not yet flushed
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10 });
  ctx.store.create(order); // seq 3 after the snapshot
  ctx.hub.flush();
  const [snapshot] = socket.messages;
  assert.equal(snapshot?.type === 'snapshot' && snapshot.seq, 2);
  assert.deepEqual(socket.seqs(), [3]);
});

test('a resume while events are queued replays them once and the flush does not repeat them', () => {
  const ctx = context();
  ctx.store.create(order);
  ctx.hub.flush();
  ctx.store.create(order);
  ctx.store.create(order); // seq 2 and 3 queued
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10, resume: { since: 1, serverId: 'run' } });
  ctx.hub.flush();
  assert.equal(socket.messages[0]?.type, 'resumed');
  assert.deepEqual(socket.seqs(), [2, 3]);
});

test('subscribe answers with a snapshot of the new view; later events follow that view only', () => {
  const ctx = context();
  const socket = new FakeSocket();
  openSession(ctx, open(socket), { view: {}, limit: 10 });
  ctx.store.create(order); // seq 1 queued for the old view
  handleClientMessage(ctx, open(socket), '{"type":"subscribe","statuses":["shipped"]}');
  const created = ctx.store.create(order); // pending: outside the new view
  assert.ok(created.ok);
  ctx.store.changeStatus(created.value.order.id, 'shipped');
  ctx.hub.flush();
  const snapshot = socket.messages[1];
  assert.ok(snapshot?.type === 'snapshot');
  assert.deepEqual(snapshot.view, { statuses: ['shipped'] });
  assert.equal(snapshot.seq, 1);
  assert.deepEqual(socket.seqs(), [3]);
});

test('snapshots are encoded once per view and seq, and rebuilt after a change', () => {
  const ctx = context();
  ctx.store.create(order);
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
  ctx.store.create(order);
  const c = new FakeSocket();
  openSession(ctx, open(c), { view: {}, limit: 10 });
  const fresh = c.messages[0];
  assert.ok(fresh?.type === 'snapshot');
  assert.equal(fresh.seq, 2);
  assert.equal(fresh.orders.length, 2);
});

test('clients resuming from the same point share one encoded replay, rebuilt after a change; nothing to replay sends nothing', () => {
  const ctx = context();
  for (let i = 0; i < 3; i++) ctx.store.create(order);
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
    openSession(ctx, open(socket), { view, limit: 10, resume: { since, serverId: 'run' } });
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
  ctx.store.create(order);
  const [afterChange] = replayOf({}, 1);
  assert.notStrictEqual(afterChange, first);
  assert.deepEqual(JSON.parse(afterChange!.payload.toString()).events.map((e: { seq: number }) => e.seq), [2, 3, 4]);
});
