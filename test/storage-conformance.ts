/**
 * The storage conformance suite: one set of tests every backend must pass,
 * run against each by its own test file (storage-memory.test.ts, ...), the
 * way Hono runs one router suite against all its routers. It drives the
 * backend through the ports (OrderLog, EventSource) and through the core
 * every instance builds on it (projection + commands), including two cores
 * on one backend, which is what several instances are; durable consumers
 * and their positions (consumer-conformance.ts, positions-conformance.ts).
 */

import { isProductEvent } from '../src/domain/events.ts';
import { describeCatalogConformance } from './catalog-conformance.ts';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { decide, type Change } from '../src/domain/decide.ts';
import type { CreateOrderInput, Order, OrderEvent } from '../src/protocol.ts';
import { startCore, type Core } from '../src/node.ts';
import type { Storage } from '../src/store.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { describeConsumers } from './consumer-conformance.ts';
import { describePositions } from './positions-conformance.ts';

/** What a backend's test file provides. */
export interface Backend {
  /** Open a fresh, empty storage. */
  open(): Promise<Storage>;
  /** Open another handle on the same data (another instance), when the backend can. */
  openAnother?(storage: Storage): Promise<Storage>;
  /** Close and open again on the same data (a restart), for durable backends. */
  reopen?(storage: Storage): Promise<Storage>;
  /** Release a storage (the suite closes the log first). */
  dispose?(storage: Storage): Promise<void>;
  /** Durable backends: the environment of a server process on a new, empty history (for the `kill -9` case). */
  processEnv?(): Record<string, string>;
  /** Drop what the history holds before its last few events, as compaction or stream trimming does. */
  trim?(storage: Storage): Promise<void>;
}

const INPUT: CreateOrderInput = { customerName: 'Ada', items: [{ name: 'laptop', quantity: 1, price: 10 }] };
const AT = '2026-01-01T00:00:00.000Z';

/** A change creating a new order with a fresh id. */
function creation(id: string, input: CreateOrderInput = INPUT): Change {
  const decided = decide(undefined, { type: 'create', id, input, at: AT });
  assert.ok(decided.ok);
  return decided.value;
}

/** Collect what a tail delivers. */
function collect(storage: Storage, after: number): { events: OrderEvent[]; stop: () => void } {
  const events: OrderEvent[] = [];
  const stop = storage.log.tail(after, (batch) => events.push(...batch.filter((e): e is OrderEvent => !isProductEvent(e))));
  return { events, stop };
}

/** Resolve once `predicate` holds, checking after each turn. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Run the suite against one backend.
 * @param name the backend's name, for the test titles
 * @param backend how to open it
 */
export function describeStorage(name: string, backend: Backend): void {
  const opened: Storage[] = [];
  const open = async (): Promise<Storage> => {
    const storage = await backend.open();
    opened.push(storage);
    return storage;
  };
  const core = (storage: Storage): Core => {
    const started = startCore(storage, { newId: createOrderIdGenerator() });
    after(() => started.stop());
    return started;
  };
  after(async () => {
    for (const storage of opened) {
      await storage.log.close();
      await backend.dispose?.(storage);
    }
  });

  describe(`storage conformance: ${name}`, () => {
    describeCatalogConformance(backend, open, opened);

    test('a fresh storage is empty, at seq 0', async () => {
      const storage = await open();
      assert.deepEqual(storage.initial.orders, []);
      assert.equal(storage.initial.position.seq, 0);
      assert.equal(storage.initial.position.epoch, storage.log.epoch);
      assert.equal(storage.trackingKey.length, 16);
    });

    test('appends get consecutive seqs; every tail gets every event once, in order', async () => {
      const storage = await open();
      const first = collect(storage, 0);
      const second = collect(storage, 0);
      const ids = createOrderIdGenerator();
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => storage.log.append(creation(ids()))));
      assert.deepEqual(outcomes.map((o) => (o.kind === 'committed' ? o.seq : -1)).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      await until(() => first.events.length === 50 && second.events.length === 50, 'both tails');
      for (const { events } of [first, second]) assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 1));
      first.stop();
      second.stop();
    });

    test('a tail started late gets the history after its seq first', async () => {
      const storage = await open();
      const ids = createOrderIdGenerator();
      for (let i = 0; i < 5; i++) await storage.log.append(creation(ids()));
      const late = collect(storage, 2);
      await storage.log.append(creation(ids()));
      await until(() => late.events.length === 4, 'the late tail');
      assert.deepEqual(late.events.map((e) => e.seq), [3, 4, 5, 6]);
      late.stop();
    });

    test('a change decided against a version that moved on is a conflict and is not recorded', async () => {
      const storage = await open();
      const { commands, projection } = core(storage);
      const created = await commands.create(INPUT);
      assert.ok(created.ok);
      const order = created.value.order;
      const moved = decide(order, { type: 'changeStatus', id: order.id, status: 'processing', at: AT });
      const cancelled = decide(order, { type: 'changeStatus', id: order.id, status: 'cancelled', at: AT });
      assert.ok(moved.ok && cancelled.ok);
      const winner = await storage.log.append(moved.value);
      const loser = await storage.log.append(cancelled.value);
      assert.equal(winner.kind, 'committed');
      assert.equal(loser.kind, 'conflict');
      assert.equal(loser.kind === 'conflict' && loser.headSeq, 2);
      await until(() => projection.seq === 2, 'the projection');
      assert.equal(projection.get(order.id)?.status, 'processing');
      const deleteStale = decide(order, { type: 'delete', id: order.id });
      assert.ok(deleteStale.ok);
      assert.equal((await storage.log.append(deleteStale.value)).kind, 'conflict', 'a delete of an old version too');
    });

    test('an idempotency key is claimed once: the second append answers with the first record', async () => {
      const storage = await open();
      const ids = createOrderIdGenerator();
      const claim = { key: 'k1', fingerprint: 'f', expiresAt: Date.now() + 60_000 };
      const first = await storage.log.append(creation(ids()), claim);
      const second = await storage.log.append(creation(ids()), claim);
      assert.equal(first.kind, 'committed');
      assert.equal(second.kind, 'duplicate');
      const record = await storage.log.findIdempotent('k1');
      assert.equal(record?.seq, 1);
      assert.equal(second.kind === 'duplicate' && second.record.order.id, record?.order.id);
      assert.equal(await storage.log.findIdempotent('never used'), undefined);
    });

    test('replay: exactly the events after a position; another epoch or a future seq is a reset', async () => {
      const storage = await open();
      const ids = createOrderIdGenerator();
      for (let i = 0; i < 10; i++) await storage.log.append(creation(ids()));
      const { epoch } = storage.log;
      assert.deepEqual((await storage.log.replay({ seq: 4, epoch }, 100)) !== 'reset' && (await storage.log.replay({ seq: 4, epoch }, 100) as OrderEvent[]).map((e) => e.seq), [5, 6, 7, 8, 9, 10]);
      const limited = await storage.log.replay({ seq: 4, epoch }, 3);
      assert.deepEqual(limited === 'reset' ? limited : limited.map((e) => e.seq), [5, 6, 7]);
      assert.deepEqual(await storage.log.replay({ seq: 10, epoch }, 100), []);
      assert.equal(await storage.log.replay({ seq: 4, epoch: `${epoch}x` }, 100), 'reset');
      assert.equal(await storage.log.replay({ seq: 11, epoch }, 100), 'reset');
    });

    test('the core: a command answers once its projection has the change; refusals change nothing', async () => {
      const storage = await open();
      const { commands, projection } = core(storage);
      const created = await commands.create(INPUT);
      assert.ok(created.ok);
      assert.equal(projection.get(created.value.order.id), created.value.order);
      const moved = await commands.changeStatus(created.value.order.id, 'shipped');
      assert.ok(moved.ok);
      assert.equal(projection.get(created.value.order.id)?.status, 'shipped');
      const refused = await commands.changeStatus(created.value.order.id, 'pending');
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'LO_ERR_BAD_TRANSITION');
      const stale = await commands.delete(created.value.order.id, 1);
      assert.ok(!stale.ok);
      assert.equal(stale.error.code, 'LO_ERR_VERSION_MISMATCH');
      assert.equal(projection.seq, 2);
    });

    test('the core: concurrent retries with one idempotency key make one order, even while the first is in flight', async () => {
      const storage = await open();
      const { commands, projection } = core(storage);
      const answers = await Promise.all(Array.from({ length: 20 }, () => commands.create(INPUT, 'same key')));
      const ids = new Set(answers.map((a) => (a.ok ? a.value.order.id : 'refused')));
      assert.equal(ids.size, 1);
      assert.equal(answers.filter((a) => a.ok && !a.value.replayed).length, 1, 'one first answer, the rest replays');
      assert.equal(projection.size, 1);
      const other = await commands.create({ ...INPUT, customerName: 'Someone else' }, 'same key');
      assert.ok(!other.ok);
      assert.equal(other.error.code, 'LO_ERR_IDEMPOTENCY_MISMATCH');
    });

    const another = backend.openAnother;
    // Only for backends several instances can share, and durable ones: the others do not promise these.
    if (another !== undefined) test('two instances on one storage: conflicting moves, exactly one wins; both converge', async () => {
      const storage = await open();
      const second = await another(storage);
      opened.push(second);
      const a = core(storage);
      const b = core(second);
      for (let round = 0; round < 20; round++) {
        const created = await a.commands.create(INPUT);
        assert.ok(created.ok);
        const id = created.value.order.id;
        await until(() => b.projection.get(id) !== undefined, 'the second instance to see the order');
        const [shipped, cancelled] = await Promise.all([a.commands.changeStatus(id, 'shipped', 1), b.commands.changeStatus(id, 'cancelled', 1)]);
        assert.equal(Number(shipped.ok) + Number(cancelled.ok), 1, `round ${round}: exactly one wins`);
        const loser = shipped.ok ? cancelled : shipped;
        assert.ok(!loser.ok);
        assert.equal(loser.error.code, 'LO_ERR_VERSION_MISMATCH');
      }
      await until(() => a.projection.seq === b.projection.seq && a.projection.seq === 40, 'both to converge');
      const statusesA = a.projection.list({ limit: 100 }).orders.map((o: Order) => `${o.id}:${o.status}:${o.version}`);
      const statusesB = b.projection.list({ limit: 100 }).orders.map((o: Order) => `${o.id}:${o.status}:${o.version}`);
      assert.deepEqual(statusesA, statusesB);
    });

    if (another !== undefined) test('two instances on one storage: one idempotency key, one order', async () => {
      const storage = await open();
      const second = await another(storage);
      opened.push(second);
      const a = core(storage);
      const b = core(second);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).commands.create(INPUT, 'shared key')));
      assert.equal(new Set(answers.map((r) => (r.ok ? r.value.order.id : 'refused'))).size, 1);
      await until(() => a.projection.size === 1 && b.projection.size === 1, 'both instances to have it');
      assert.equal(a.projection.seq, 1);
    });

    const reopen = backend.reopen;
    if (reopen !== undefined) test('after a restart: every order, the same epoch and seq, keys and the tracking key kept', async () => {
      const storage = await open();
      const { commands, stop } = core(storage);
      const created = await commands.create(INPUT, 'kept key');
      assert.ok(created.ok);
      const moved = await commands.changeStatus(created.value.order.id, 'processing');
      assert.ok(moved.ok);
      for (let i = 0; i < 20; i++) assert.ok((await commands.create({ ...INPUT, customerName: `Customer ${i}` })).ok);
      stop();
      const again = await reopen(storage);
      opened.push(again);
      assert.equal(again.log.epoch, storage.log.epoch);
      assert.equal(again.initial.position.seq, 22);
      assert.equal(again.initial.orders.length, 21);
      assert.deepEqual(again.initial.orders.find((o) => o.id === created.value.order.id), moved.value.order);
      assert.deepEqual(again.trackingKey, storage.trackingKey);
      const restarted = core(again);
      const retry = await restarted.commands.create(INPUT, 'kept key');
      assert.ok(retry.ok && retry.value.replayed);
      assert.equal(retry.value.order.id, created.value.order.id);
      const next = await restarted.commands.create(INPUT);
      assert.ok(next.ok);
      assert.equal(next.value.seq, 23, 'the seq continues');
      assert.deepEqual(((await again.log.replay({ seq: 20, epoch: again.log.epoch }, 10)) as OrderEvent[]).map((e) => e.seq), [21, 22, 23]);
    });
  });
  describeConsumers(name, backend, open);
  describePositions(name, backend, open);
}
