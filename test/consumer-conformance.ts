/**
 * Durable consumers of the tail, in the storage conformance suite: a
 * consumer that only the tests register is resumed from the position it
 * saved, each event after it once, on every backend; after a restart in
 * process, after a real `kill -9` of a server process where the backend is
 * durable, and, where the history was compacted or trimmed past it, told
 * how many events it missed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Hub } from '../src/fanout/hub.ts';
import { LiveNode, type MissedEvents } from '../src/node.ts';
import type { CreateOrderInput, OrderEvent } from '../src/protocol.ts';
import type { Storage } from '../src/store.ts';
import { captureLogger, orderBody, request, waitFor } from './helpers.ts';
import { startProcess } from './processes.ts';
import type { Backend } from './storage-conformance.ts';

const INPUT: CreateOrderInput = { customerName: 'Ada', items: [{ name: 'laptop', quantity: 1, price: 10 }] };

/** The consumer's name: what its position is kept under. */
const NAME = 'test-consumer';

/** The fixture: the service with a slow durable consumer that logs each seq it is handed. */
const FIXTURE = new URL('./fixtures/consumer-server.ts', import.meta.url).pathname;

/** A live node on a storage, stopped after the test file. */
function startNode(storage: Storage, nodes: LiveNode[]): LiveNode {
  const node = new LiveNode(storage, { historyCapacity: 10_000, hub: new Hub(), logger: captureLogger().logger });
  nodes.push(node);
  return node;
}

/** A durable test consumer on a node: what it was handed, and what it was told it missed. */
async function durableConsumer(node: LiveNode): Promise<{ seqs: number[]; missed: MissedEvents[]; stop: () => Promise<void> }> {
  const seqs: number[] = [];
  const missed: MissedEvents[] = [];
  const stop = await node.register({ name: NAME, durable: true, handle: (events: readonly OrderEvent[]) => void seqs.push(...events.map((e) => e.seq)), onMissed: (m) => void missed.push(m) });
  return { seqs, missed, stop };
}

/** Create `count` orders through a node, one after another. */
async function create(node: LiveNode, count: number): Promise<void> {
  for (let i = 0; i < count; i++) assert.ok((await node.commands.create({ ...INPUT, customerName: `Customer ${i}` })).ok);
}

/** `from + 1` through `to`. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + 1 + i);
}

/**
 * The durable-consumer cases, against one backend.
 * @param name the backend's name
 * @param backend how to open, restart, trim it
 * @param open opens a fresh storage the suite closes afterwards
 */
export function describeConsumers(name: string, backend: Backend, open: () => Promise<Storage>): void {
  const nodes: LiveNode[] = [];
  /** Storages reopened here (the suite closes those it opened). */
  const reopened: Storage[] = [];
  after(async () => {
    for (const node of nodes) await node.stop();
    for (const storage of reopened) await storage.log.close();
  });
  const restart = async (storage: Storage, reopen: (storage: Storage) => Promise<Storage>): Promise<Storage> => {
    const again = await reopen(storage);
    reopened.push(again);
    return again;
  };

  describe(`durable consumers: ${name}`, () => {
    test('a durable consumer restarted goes on after its saved position: each later event once, in order', async () => {
      const storage = await open();
      const first = startNode(storage, nodes);
      const before = await durableConsumer(first);
      await create(first, 10);
      await waitFor(() => before.seqs.length === 10, 'the consumer has the first ten');
      await before.stop();
      assert.deepEqual(await storage.positions.load(NAME), { seq: 10, epoch: storage.log.epoch }, 'the position is saved once the handler settled');
      // Five more while it is not running: they must come from the history.
      await create(first, 5);
      await first.stop();
      const restarted = backend.reopen === undefined ? storage : await restart(storage, backend.reopen);
      const second = startNode(restarted, nodes);
      const again = await durableConsumer(second);
      await create(second, 3);
      await waitFor(() => again.seqs.length >= 8, 'the consumer has caught up');
      await again.stop();
      assert.deepEqual(again.seqs, range(10, 18));
      assert.deepEqual(again.missed, []);
    });

    const { trim, reopen } = backend;
    if (trim !== undefined && reopen !== undefined) test('history compacted or trimmed past a durable consumer: it is told how many events it missed, then goes on', async () => {
      const storage = await open();
      const first = startNode(storage, nodes);
      const before = await durableConsumer(first);
      await create(first, 5);
      await waitFor(() => before.seqs.length === 5, 'the consumer has the first five');
      await before.stop();
      await create(first, 20);
      await first.stop();
      await trim(storage);
      const restarted = await restart(storage, reopen);
      const second = startNode(restarted, nodes);
      const again = await durableConsumer(second);
      await waitFor(() => again.missed.length === 1, 'the consumer is told');
      await create(second, 1);
      await waitFor(() => again.seqs.length === 1, 'the next event');
      await again.stop();
      const epoch = restarted.log.epoch;
      assert.deepEqual(again.missed, [{ reason: 'trimmed', from: { seq: 5, epoch }, resumedAt: { seq: 25, epoch }, missed: 20 }]);
      assert.deepEqual(again.seqs, [26]);
      assert.deepEqual(await restarted.positions.load(NAME), { seq: 26, epoch });
    });

    const processEnv = backend.processEnv;
    if (processEnv !== undefined) test('kill -9 of a server process, then a restart: every event after the saved position exactly once', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'liveorders-consumer-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const logFile = join(dir, 'consumer.log');
      const env = { ...processEnv(), CONSUMER_LOG: logFile, CONSUMER_DELAY_MS: '20' };
      const run = (): ReturnType<typeof startProcess> => startProcess(process.execPath, ['--import', 'tsx', FIXTURE], env);
      const lines = (): string[] => readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '');

      const crashed = await run();
      t.after(() => crashed.child.kill('SIGKILL'));
      const created = await Promise.all(Array.from({ length: 200 }, (_, i) => request(crashed.base, 'POST', '/api/orders', orderBody(`Customer ${i}`))));
      assert.ok(created.every((res) => res.status === 201));
      await waitFor(() => lines().length > 20, 'the consumer under way');
      crashed.child.kill('SIGKILL');
      await crashed.exited;
      const firstRun = lines();
      assert.equal(firstRun[0], 'start 0');
      const handled = firstRun.slice(1).map(Number);
      assert.deepEqual(handled, range(0, handled.length), 'in order, each once, before the crash');

      const restarted = await run();
      t.after(() => restarted.child.kill('SIGKILL'));
      await request(restarted.base, 'POST', '/api/orders', orderBody('after the restart'));
      await waitFor(() => lines().at(-1) === '201', 'the consumer has every event');
      const secondRun = lines().slice(firstRun.length);
      const resumedAfter = Number(/^start (\d+)$/.exec(secondRun[0] ?? '')?.[1]);
      assert.ok(resumedAfter >= 1 && resumedAfter <= handled.length, `resumes after a position it had processed (${secondRun[0]})`);
      assert.deepEqual(secondRun.slice(1).map(Number), range(resumedAfter, 201), 'every event after the saved position, exactly once, in order');
      t.diagnostic(`handled ${handled.length} of 200 before kill -9; saved position ${resumedAfter}`);
    });
  });
}
