/**
 * @module store/redis/open
 * Opening the Redis backend: load node-redis (only now: the other modes
 * never load it), connect, read or create the history's identity (epoch
 * and tracking key, each set once by whichever instance comes first), load
 * the orders, and start the tail where the load ended.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../support/logger.ts';
import type { Storage } from '../ports.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, withDeadline, type CommandSender } from './deadline.ts';
import { markAt } from './history-check.ts';
import { redisKeys, type RedisKeys } from './keys.ts';
import { loadOrders } from './load.ts';
import { RedisPositions } from './positions.ts';
import { RedisLog, type CommandFailure } from './redis-log.ts';
import { stringReply, type RedisConnection } from './replies.ts';

/** Where Redis is when `REDIS_URL` is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Stream entries kept at least when `REDIS_STREAM_LENGTH` is not set: resumes from a few minutes back at a busy shop. */
export const DEFAULT_STREAM_LENGTH = 100_000;

/** How long start-up waits for Redis before giving up, in milliseconds. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Longest pause between reconnection attempts, in milliseconds: Redis back means writes back within about this. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** Options for {@link openRedisStorage}. */
export interface RedisStorageOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string;
  /** Names the history: instances with the same URL and prefix share it. @default liveorders */
  readonly prefix: string;
  /** Entries the stream keeps at least (raised to `historyCapacity` if lower). */
  readonly streamLength?: number;
  /** Events kept in memory for replays and late tails. @default 10000 */
  readonly historyCapacity?: number;
  /**
   * How long a command on a request's path may wait for Redis, in
   * milliseconds; then a write is answered 503 (outcome unknown), and a
   * Redis silent this long turns the instance not ready.
   * @default 5000
   */
  readonly commandTimeoutMs?: number;
  /** The tracking key from configuration; otherwise the one kept in Redis. */
  readonly trackingKey?: Buffer;
  readonly logger: Logger;
  readonly onSinkError: (error: unknown) => void;
}

/**
 * Connect to Redis and load the shared history.
 * @param options where Redis is, the prefix, and settings
 */
export async function openRedisStorage(options: RedisStorageOptions): Promise<Storage> {
  const redis = await import('redis');
  const where = withoutCredentials(options.url);
  const make = (name: string, timeout: number): RedisConnection =>
    redis.createClient({
      url: options.url,
      name,
      RESP: 2,
      // Offline, a command fails at once (503) instead of waiting in a queue for a Redis that may not come back.
      disableOfflineQueue: true,
      commandOptions: { timeout },
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) },
    });
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const commands = make('liveorders', commandTimeoutMs);
  let lastError: Error | undefined;
  commands.on('error', (error) => (lastError = error));
  try {
    await withTimeout(commands.connect(), CONNECT_TIMEOUT_MS, () => `cannot reach Redis at ${where} (${lastError?.message ?? 'no answer'}): start redis-server, or set REDIS_URL`);
    const keys = redisKeys(options.prefix);
    const withinDeadline: CommandSender = { sendCommand: (args) => withDeadline(commands.sendCommand(args), Math.max(commandTimeoutMs, CONNECT_TIMEOUT_MS), args[0] ?? 'a command') };
    const identity = await historyIdentity(withinDeadline, keys);
    const started = Date.now();
    const initial = await loadOrders(withinDeadline, keys, identity.epoch);
    const applied = await markAt(withinDeadline, keys, initial.position.seq);
    const historyCapacity = options.historyCapacity ?? 10_000;
    options.logger.info('orders loaded from Redis', { redis: where, prefix: options.prefix, seq: initial.position.seq, orders: initial.orders.length, ms: Date.now() - started });
    const classify = (error: unknown): CommandFailure =>
      error instanceof redis.ClientOfflineError || error instanceof redis.ClientClosedError ? 'not-sent' : error instanceof redis.ErrorReply ? 'refused' : 'unknown';
    const log = new RedisLog({
      commands,
      connectCommands: () => make('liveorders', commandTimeoutMs),
      commandTimeoutMs,
      trackingKeyHex: identity.trackingKey.toString('hex'),
      // The tail blocks for seconds at a time: no command timeout on its connection (the watchdog looks after it instead).
      connectTail: () => make('liveorders-tail', 0),
      classify,
      keys,
      epoch: identity.epoch,
      applied,
      streamLength: Math.max(options.streamLength ?? DEFAULT_STREAM_LENGTH, historyCapacity),
      where,
      logger: options.logger,
      onSinkError: options.onSinkError,
    });
    return { mode: 'redis', shared: true, log, initial, trackingKey: options.trackingKey ?? identity.trackingKey, positions: new RedisPositions(log.sender, keys),
      // The sender is read per command: it is replaced when Redis stops answering.
      sideKeys: { send: (args) => log.sender.sendCommand(args), key: (name) => keys.side(name) } };
  } catch (error) {
    commands.destroy();
    throw error;
  }
}

/** The epoch and tracking key: set once, by whichever instance comes first, then read by all. */
async function historyIdentity(commands: CommandSender, keys: RedisKeys): Promise<{ epoch: string; trackingKey: Buffer }> {
  await commands.sendCommand(['SET', keys.epoch, randomUUID(), 'NX']);
  await commands.sendCommand(['SET', keys.trackingKey, randomBytes(16).toString('hex'), 'NX']);
  const epoch = stringReply(await commands.sendCommand(['GET', keys.epoch]), 'epoch');
  const trackingKey = stringReply(await commands.sendCommand(['GET', keys.trackingKey]), 'tracking key');
  if (epoch === undefined || trackingKey === undefined || !/^[0-9a-f]{32}$/.test(trackingKey)) {
    throw new Error(`Redis does not hold a usable identity under ${keys.epoch} and ${keys.trackingKey}; was it written by something else?`);
  }
  return { epoch, trackingKey: Buffer.from(trackingKey, 'hex') };
}

/**
 * A Redis URL fit for logs and stats: without user or password.
 * @param url a Redis URL
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(malformed REDIS_URL)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
