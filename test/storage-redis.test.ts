/**
 * The Redis backend against real `redis-server` processes: the conformance
 * suite (with other instances and restarts), and what sharing a history
 * through Redis promises: an instance that starts while others write loads
 * exactly one state; a tail whose connection is cut or hangs comes back;
 * Redis going away turns writes into 503 at once and loses nothing that
 * was answered; Redis losing its data stops writes instead of forking the
 * history; replays come from the stream beyond the local memory; and the
 * Redis client is not even loaded in the other modes.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { createClient } from 'redis';
import type { CreateOrderInput, OrderEvent } from '../src/protocol.ts';
import { startCore, type Core } from '../src/node.ts';
import { openStorage, StorageUnavailableError, type Storage } from '../src/store.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { captureLogger, waitFor } from './helpers.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';
import { describeStorage } from './storage-conformance.ts';
import { TcpProxy } from './tcp-proxy.ts';

const INPUT: CreateOrderInput = { customerName: 'Ada', items: [{ name: 'laptop', quantity: 1, price: 10 }] };
const { skip } = redisRequirement();
const redis: RedisProcess | undefined = skip === false ? await startRedis() : undefined;
after(() => redis?.dispose());

/** Each storage's prefix, so another instance or a restart can open the same history. */
const prefixOf = new WeakMap<Storage, string>();
let prefixes = 0;

async function openRedis(prefix: string, options: { url?: string; streamLength?: number; historyCapacity?: number } = {}): Promise<Storage> {
  const storage = await openStorage({
    mode: 'redis',
    redisUrl: options.url ?? redis!.url,
    redisPrefix: prefix,
    logger: captureLogger().logger,
    onSinkError: (error) => {
      throw error;
    },
    ...(options.streamLength === undefined ? {} : { streamLength: options.streamLength }),
    ...(options.historyCapacity === undefined ? {} : { historyCapacity: options.historyCapacity }),
  });
  prefixOf.set(storage, prefix);
  return storage;
}

if (redis !== undefined) {
  describeStorage('redis', {
    open: () => openRedis(`conformance-${++prefixes}`),
    openAnother: (storage) => openRedis(prefixOf.get(storage)!),
    reopen: async (storage) => {
      await storage.log.close();
      return openRedis(prefixOf.get(storage)!);
    },
    processEnv: () => ({ STORAGE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: `consumer-kill-${++prefixes}` }),
    // Stream trimming: only the last five entries kept.
    trim: async (storage) => {
      const admin = createClient({ url: redis.url });
      await admin.connect();
      try {
        await admin.sendCommand(['XTRIM', `{${prefixOf.get(storage)!}}:events`, 'MAXLEN', '5']);
      } finally {
        admin.destroy();
      }
    },
  });
}

describe('redis backend', { skip }, () => {
  const opened: Storage[] = [];
  const cores: Core[] = [];
  const open = async (prefix: string, options?: Parameters<typeof openRedis>[1]): Promise<Storage> => {
    const storage = await openRedis(prefix, options);
    opened.push(storage);
    return storage;
  };
  const core = (storage: Storage): Core => {
    const started = startCore(storage, { newId: createOrderIdGenerator() });
    cores.push(started);
    return started;
  };
  after(async () => {
    cores.forEach((c) => c.stop());
    for (const storage of opened) await storage.log.close();
  });

  test('an instance that starts while two others write loads one exact state and follows on', async () => {
    const a = core(await open('load-race'));
    const b = core(await open('load-race'));
    let stop = false;
    const writer = async (c: Core, name: string): Promise<void> => {
      const mine: string[] = [];
      for (let i = 0; !stop; i++) {
        const step = i % 4;
        if (step === 0 || mine.length === 0) {
          const created = await c.commands.create({ ...INPUT, customerName: `${name}${i}` });
          if (created.ok) mine.push(created.value.order.id);
        } else if (step === 3) {
          await c.commands.delete(mine.shift()!);
        } else {
          await c.commands.changeStatus(mine[mine.length - 1]!, step === 1 ? 'processing' : 'shipped');
        }
      }
    };
    const writing = [writer(a, 'a'), writer(b, 'b'), writer(a, 'c'), writer(b, 'd')];
    await waitFor(() => a.projection.seq > 300, 'writes under way');
    const late = core(await open('load-race'));
    assert.ok(late.projection.seq > 300);
    await waitFor(() => late.projection.seq > a.projection.seq - 5 && a.projection.seq > 800, 'more writes after the load');
    stop = true;
    await Promise.all(writing);
    await waitFor(() => late.projection.seq === a.projection.seq && b.projection.seq === a.projection.seq, 'all three to converge');
    const everything = (c: Core): string[] => c.projection.list({ limit: 100_000 }).orders.map((o) => JSON.stringify(o));
    assert.deepEqual(everything(late), everything(a));
    assert.deepEqual(everything(b), everything(a));
    assert.deepEqual(late.projection.counts(), a.projection.counts());
  });

  test('a tail whose connection is killed reconnects and misses nothing', async () => {
    const storage = await open('tail-killed');
    const c = core(storage);
    const admin = createClient({ url: redis!.url });
    await admin.connect();
    try {
      for (let round = 0; round < 3; round++) {
        assert.ok((await c.commands.create(INPUT)).ok);
        await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
        // Every connection but this one is gone, the tail's and the commands' both. A write may fail
        // (503, maybe applied) until the client reconnects: retried with its idempotency key, it lands once.
        const started = Date.now();
        for (;;) {
          try {
            const created = await c.commands.create(INPUT, `round ${round}`);
            assert.ok(created.ok);
            break;
          } catch (error) {
            assert.ok(error instanceof StorageUnavailableError, String(error));
            assert.ok(Date.now() - started < 5000, 'writes come back within seconds');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
      assert.equal(c.projection.size, 6);
      assert.equal(c.projection.seq, 6);
    } finally {
      await admin.close();
    }
  });

  test('a tail whose connection hangs (no close, no data) is replaced, and the write it held up is answered', async () => {
    const proxy = await TcpProxy.start(redis!.port);
    const storage = await open('tail-hung', { url: `redis://127.0.0.1:${proxy.port}` });
    const c = core(storage);
    const admin = createClient({ url: redis!.url });
    await admin.connect();
    try {
      assert.ok((await c.commands.create(INPUT)).ok);
      // Of every storage's tail, the one that goes through the proxy.
      const clients = String(await admin.sendCommand(['CLIENT', 'LIST'])).split('\n');
      const tailPorts = clients.filter((line) => line.includes('name=liveorders-tail')).map((line) => Number(/ addr=[\d.]+:(\d+) /.exec(line)?.[1]));
      assert.equal(tailPorts.filter((port) => proxy.stallUpstreamPort(port)).length, 1, 'one tail connection goes through the proxy');
      const started = Date.now();
      const created = await c.commands.create(INPUT);
      assert.ok(created.ok);
      const waited = Date.now() - started;
      assert.ok(waited > 2000 && waited < 10_000, `answered once the tail was replaced (${waited} ms)`);
      const stats = storage.log.stats() as unknown as { tail: { replacedConnections: number } };
      assert.equal(stats.tail.replacedConnections, 1);
      assert.equal(c.projection.seq, 2);
    } finally {
      await admin.close();
      await proxy.close();
    }
  });

  test('Redis stopped: writes fail at once with 503 material, nothing half-done; back: writes and the tail go on', async () => {
    const storage = await open('outage');
    const c = core(storage);
    const watcher = core(await open('outage'));
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await c.commands.create({ ...INPUT, customerName: `before ${i}` });
      assert.ok(created.ok);
      acknowledged.push(created.value.order.id);
    }
    await redis!.kill();
    await waitFor(() => !storage.log.health().ready, 'the outage to be noticed', 5000);
    const started = Date.now();
    await assert.rejects(c.commands.create(INPUT), (error: unknown) => error instanceof StorageUnavailableError && !error.outcomeUnknown);
    assert.ok(Date.now() - started < 1000, 'refused at once, not after a timeout');
    const health = storage.log.health();
    assert.equal(health.ready, false);
    assert.equal(health.staleReads, true);
    assert.equal(c.projection.size, 20, 'reads go on from the projection');
    await redis!.start();
    await waitFor(() => storage.log.health().ready, 'writes to come back', 10_000);
    const after = await c.commands.create({ ...INPUT, customerName: 'after' });
    assert.ok(after.ok);
    await waitFor(() => watcher.projection.seq === after.value.seq, 'the other instance to catch up');
    for (const id of acknowledged) assert.ok(watcher.projection.get(id), `acknowledged ${id} survived a kill -9 of Redis`);
    assert.equal(storage.log.health().staleReads, undefined);
  });

  test('Redis lost its data: writes are refused rather than starting a second history; a new instance starts a new epoch, which this one moves to', async () => {
    const storage = await open('amnesia');
    const c = core(storage);
    const lostEpoch = storage.log.epoch;
    assert.ok((await c.commands.create(INPUT)).ok);
    const admin = createClient({ url: redis!.url });
    await admin.connect();
    try {
      const keys = (await admin.sendCommand(['KEYS', '{amnesia}:*'])) as string[];
      await admin.sendCommand(['DEL', ...keys]);
    } finally {
      await admin.close();
    }
    await assert.rejects(c.commands.create(INPUT), (error: unknown) => error instanceof StorageUnavailableError && error.code === 'EPOCHLOST');
    assert.equal(storage.log.health().reason, 'EPOCHLOST');
    const fresh = await open('amnesia');
    assert.notEqual(fresh.log.epoch, lostEpoch);
    assert.equal(fresh.initial.position.seq, 0);
    assert.equal(await fresh.log.replay({ seq: 1, epoch: lostEpoch }, 10), 'reset');
    // The instance that saw the loss recovers in place, onto the one new epoch.
    await waitFor(() => storage.log.health().ready && storage.log.epoch === fresh.log.epoch, 'the first instance to recover onto the new epoch');
    assert.equal(c.projection.position.epoch, fresh.log.epoch);
    assert.ok((await c.commands.create(INPUT)).ok);
  });

  test('replays older than the local memory come from the stream, until it is trimmed past them', async () => {
    const storage = await open('trimmed', { historyCapacity: 10, streamLength: 100 });
    const c = core(storage);
    for (let i = 0; i < 50; i++) assert.ok((await c.commands.create({ ...INPUT, customerName: `n${i}` })).ok);
    const replayed = await storage.log.replay({ seq: 5, epoch: storage.log.epoch }, 20);
    assert.notEqual(replayed, 'reset');
    assert.deepEqual((replayed as OrderEvent[]).map((e) => e.seq), Array.from({ length: 20 }, (_, i) => 6 + i));
    assert.equal((replayed as OrderEvent[])[0]!.order.customerName, 'n5');
    for (let i = 0; i < 1000; i++) assert.ok((await c.commands.create(INPUT)).ok);
    assert.equal(await storage.log.replay({ seq: 5, epoch: storage.log.epoch }, 20), 'reset');
  });

  test('two instances racing on one order with If-Match: one wins on every round, and the loser learns the version', async () => {
    const a = core(await open('race'));
    const b = core(await open('race'));
    const created = await a.commands.create(INPUT);
    assert.ok(created.ok);
    const id = created.value.order.id;
    await waitFor(() => b.projection.get(id) !== undefined, 'b to see the order');
    const [first, second] = await Promise.all([a.commands.changeStatus(id, 'processing', 1), b.commands.changeStatus(id, 'processing', 1)]);
    assert.equal(Number(first.ok) + Number(second.ok), 1);
    const beaten = first.ok ? second : first;
    assert.ok(!beaten.ok);
    assert.equal(beaten.error.code, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(beaten.error.details.currentVersion, 2);
    // Without If-Match the loser is decided again on the new state: processing -> processing is no move.
    const [third, fourth] = await Promise.all([a.commands.changeStatus(id, 'shipped'), b.commands.changeStatus(id, 'shipped')]);
    assert.equal(Number(third.ok) + Number(fourth.ok), 1);
    const loser = third.ok ? fourth : third;
    assert.ok(!loser.ok);
    assert.equal(loser.error.code, 'LO_ERR_BAD_TRANSITION');
  });
});

describe('redis client loading', () => {
  test('the memory and journal modes never load node-redis', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { mkdtempSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const { openStorage } = await import('./src/store.ts');
      const { createServer } = await import('./src/server.ts');
      const { createLogger } = await import('./src/support/logger.ts');
      const logger = createLogger({ level: 'silent' });
      const journal = await openStorage({ mode: 'journal', dataDir: mkdtempSync(join(tmpdir(), 'lo-')), logger });
      const server = createServer({ storage: journal, port: 0, logger });
      await server.listen();
      await server.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(k));
      console.log(JSON.stringify(loaded.length));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '0');
  });
});
