/**
 * A server under test, in its own process so its CPU time and memory can be
 * measured apart from the clients'. argv[2] picks the variant:
 * `liveorders` (what we ship), `naive` (baseline a), `floor` (baseline b),
 * `bare` (baseline c), `keep` (baseline d), `batch` (baseline e), `journal`
 * (liveorders on the journal, as npm start runs it), `redis URL PREFIX`
 * (one instance of several sharing a history in Redis; the others keep
 * orders in memory). Commands over IPC: cpu, mem, seed, stats.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournalStorage, openStorage } from '../src/store.ts';
import { createLogger } from '../src/support/logger.ts';
import { createServer } from '../src/server.ts';
import { BatchFloorHub, FloorHub, NaiveHub, bareHandler, keepHandler, startHandlerServer } from './baselines.ts';
import { serve } from './ipc.ts';
import { seedOrders } from './seed.ts';

const variant = process.argv[2] ?? 'liveorders';

function cpu(): { userUs: number; systemUs: number } {
  const usage = process.cpuUsage();
  return { userUs: usage.user, systemUs: usage.system };
}

function mem(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage();
}

if (variant === 'bare' || variant === 'keep') {
  const { port } = await startHandlerServer(variant === 'bare' ? bareHandler() : keepHandler());
  serve({ cpu, mem }, { port });
} else {
  const fanOuts = { naive: () => new NaiveHub(), floor: () => new FloorHub(), batch: () => new BatchFloorHub(), liveorders: undefined, journal: undefined, redis: undefined } as const;
  if (!(variant in fanOuts)) throw new Error(`unknown variant ${variant}`);
  const createFanOut = fanOuts[variant as keyof typeof fanOuts];
  const logger = createLogger({ level: 'error' });
  // `journal`: what npm start runs, durable in a data folder of its own (removed when the worker exits).
  const dataDir = variant === 'journal' ? mkdtempSync(join(tmpdir(), 'liveorders-bench-')) : undefined;
  if (dataDir !== undefined) process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  // `redis URL PREFIX`: one of several instances sharing a history in Redis.
  const storage =
    variant === 'redis'
      ? await openStorage({ mode: 'redis', redisUrl: process.argv[3]!, redisPrefix: process.argv[4]!, logger, onSinkError: () => undefined })
      : dataDir === undefined
        ? undefined
        : await openJournalStorage({ dir: dataDir, logger, onSinkError: () => undefined });
  const server = createServer({
    port: 0,
    servePage: false,
    maxConnections: 100_000,
    logger,
    ...(storage === undefined ? {} : { storage }),
    ...(createFanOut === undefined ? {} : { createFanOut }),
  });
  const { port } = await server.listen();
  serve(
    {
      cpu,
      mem,
      seed: async ({ n }) => {
        await seedOrders(server.commands, Number(n));
        return server.orders.size;
      },
      stats: () => ({ ...server.hub.stats(), seq: server.orders.position.seq, connections: server.webSockets.size, storage: server.storage.log.stats() }),
    },
    { port },
  );
}
