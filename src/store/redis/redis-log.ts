/**
 * @module store/redis/redis-log
 * The Redis backend: one history shared by every instance with the same
 * `REDIS_URL` and prefix. A write is the append script (one atomic step in
 * Redis, see append-script.ts); everything an instance holds is fed from
 * its own tail of the event stream (stream-reader.ts), its own writes
 * included, so every instance applies the same events in the same order.
 *
 * When Redis is unreachable, writes fail at once with
 * {@link StorageUnavailableError} (the connection queues nothing while
 * offline), reads go on from the projection and are reported as possibly
 * stale, and the tail picks up from its last seq when Redis is back. A
 * tail that stops delivering while the history moves on (a connection that
 * hangs without closing) is replaced. A history that is gone (Redis lost
 * its data: the epoch key is missing or another) or trimmed past this
 * instance is a failure only a restart repairs: writes are refused, and
 * `/healthz` says why.
 */

import { versionBefore, type Change } from '../../domain/decide.ts';
import type { Order, OrderEvent } from '../../protocol/orders.ts';
import type { Logger } from '../../support/logger.ts';
import { StorageUnavailableError } from '../errors.ts';
import type { AppendOutcome, EventSink, IdempotencyClaim, IdempotencyRecord, OrderLog, StorageHealth, StorageStats } from '../ports.ts';
import { LatencySamples } from '../latency-samples.ts';
import { TailFeed } from '../tail-feed.ts';
import { parseIdempotencyRecord, runAppend } from './append-script.ts';
import { entryId, type RedisKeys } from './keys.ts';
import { arrayReply, eventOf, integerReply, streamEntries, stringReply, type RedisConnection } from './replies.ts';
import { READ_BLOCK_MS, StreamReader } from './stream-reader.ts';

/** How often the watchdog looks at the epoch, the head of the history and the tail, in milliseconds. */
const WATCH_INTERVAL_MS = 1000;

/** How long the tail may trail a seq known to be committed before its connection is replaced, in milliseconds. */
export const STUCK_TAIL_MS = 3000;

/** How long closing waits for commands in flight, in milliseconds. */
const CLOSE_TIMEOUT_MS = 2000;

/** Write latencies kept for the percentiles in `/api/stats`. */
const LATENCY_SAMPLES = 1024;

/** How a failed command stands: never sent, refused by Redis, or sent with no answer. */
export type CommandFailure = 'not-sent' | 'refused' | 'unknown';

/** What a {@link RedisLog} is made of. */
export interface RedisLogOptions {
  /** The connection for commands (connected). */
  readonly commands: RedisConnection;
  /** Makes a new connection for the tail. */
  readonly connectTail: () => RedisConnection;
  /** Tells whether a failed command may have been executed. */
  readonly classify: (error: unknown) => CommandFailure;
  readonly keys: RedisKeys;
  readonly epoch: string;
  /** The seq the loaded orders are as of: the tail goes on from here. */
  readonly after: number;
  /** Entries the stream keeps at least (approximately trimmed past it). */
  readonly streamLength: number;
  /** Where Redis is, without credentials, for stats. */
  readonly where: string;
  readonly logger: Logger;
  readonly onSinkError: (error: unknown) => void;
}

/** A failure that only a restart repairs. */
interface Failure {
  readonly code: string;
  readonly message: string;
  readonly since: string;
}

/** The history in Redis, as one instance sees and writes it. */
export class RedisLog implements OrderLog {
  readonly epoch: string;
  readonly #options: RedisLogOptions;
  readonly #commands: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #reader: StreamReader;
  readonly #feed: TailFeed;
  readonly #watchdog: NodeJS.Timeout;
  #watching = false;
  #failure: Failure | undefined;
  #offline: { readonly code: string; readonly since: string; readonly at: number } | undefined;
  /** The newest seq known to be committed (by a write of ours, or the watchdog's look at the head). */
  #head: number;
  /** Since when the tail has trailed `#head`, if it does. */
  #trailingSince: number | undefined;
  readonly #latencies = new LatencySamples(LATENCY_SAMPLES);
  #closed = false;
  /** This instance's writes on their way, by {@link changeKey}, until the tail brings them back. */
  readonly #sent = new Map<string, Order>();

  /** @param options connections, keys, position and settings */
  constructor(options: RedisLogOptions) {
    this.#options = options;
    this.epoch = options.epoch;
    this.#commands = options.commands;
    this.#keys = options.keys;
    this.#head = options.after;
    // No copy of recent events here: the live node keeps the one in-memory history; late tails read the stream.
    this.#feed = new TailFeed((after, limit) => this.replay({ seq: after, epoch: this.epoch }, limit), options.onSinkError);
    this.#commands.on('error', (error) => this.#wentOffline(error));
    this.#commands.on('ready', () => this.#cameBack());
    this.#reader = new StreamReader({
      connect: options.connectTail,
      stream: options.keys.events,
      after: options.after,
      deliver: (events) => this.#deliver(events),
      onFailure: (code, message) => this.#fail(code, message),
    });
    this.#watchdog = setInterval(() => void this.#watch(), WATCH_INTERVAL_MS).unref();
  }

  async append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    this.#refuseIfBroken();
    const started = performance.now();
    const sent = changeKey(change.type, change.order);
    this.#sent.set(sent, change.order);
    let outcome;
    try {
      outcome = await runAppend(this.#commands, this.#keys, this.epoch, change, claim, this.#options.streamLength);
    } catch (error) {
      this.#sent.delete(sent);
      throw this.#unavailable(error, `append of ${change.type} for ${change.order.id} (version ${versionBefore(change)})`);
    }
    this.#latencies.record(performance.now() - started);
    if (outcome.kind !== 'committed') this.#sent.delete(sent);
    switch (outcome.kind) {
      case 'committed':
        this.#committed(outcome.seq);
        return outcome;
      case 'conflict':
        this.#committed(outcome.headSeq);
        return outcome;
      case 'duplicate':
        return outcome;
      case 'epoch':
        this.#fail('EPOCHLOST', 'Redis no longer holds the history this instance serves (its data was lost or replaced); restart this instance');
        throw new StorageUnavailableError('EPOCHLOST', 'the history in Redis is gone');
    }
  }

  async findIdempotent(key: string): Promise<IdempotencyRecord | undefined> {
    this.#refuseIfBroken();
    let stored: unknown;
    try {
      stored = await this.#commands.sendCommand(['GET', this.#keys.idempotency(key)]);
    } catch (error) {
      throw this.#unavailable(error, 'idempotency lookup');
    }
    const json = stringReply(stored, 'idempotency record');
    if (json === undefined) return undefined;
    const record = parseIdempotencyRecord(json);
    return record.expiresAt > Date.now() ? record : undefined;
  }

  async head(): Promise<number> {
    this.#refuseIfBroken();
    let reply: unknown;
    try {
      reply = await this.#commands.sendCommand(['GET', this.#keys.seq]);
    } catch (error) {
      throw this.#unavailable(error, 'reading the head');
    }
    const head = integerReply(reply ?? '0', 'seq');
    this.#committed(head);
    return head;
  }

  async replay(after: { seq: number; epoch: string }, limit: number): Promise<readonly OrderEvent[] | 'reset'> {
    if (after.epoch !== this.epoch || this.#failure !== undefined) return 'reset';
    // The stream, and the head, read together (one round trip): events after the head would be a client's invention.
    const [range, head] = await Promise.all([
      this.#commands.sendCommand(['XRANGE', this.#keys.events, `(${entryId(after.seq)}`, '+', 'COUNT', String(limit)]),
      this.#commands.sendCommand(['GET', this.#keys.seq]),
    ]);
    const entries = streamEntries(range);
    if (after.seq > integerReply(head ?? '0', 'seq')) return 'reset';
    // Trimmed past `after`: the first entry held is a later one.
    if (entries.length > 0 && entries[0]!.seq !== after.seq + 1) return 'reset';
    return entries.map(eventOf);
  }

  tail(after: number, sink: EventSink): () => void {
    return this.#feed.add(after, this.#reader.delivered, sink);
  }

  stats(): StorageStats {
    const now = Date.now();
    return {
      mode: 'redis',
      redis: this.#options.where,
      prefix: this.#keys.seq.slice(0, -':seq'.length),
      connected: this.#commands.isReady,
      seq: this.#reader.delivered,
      head: this.#head,
      tail: { current: this.#reader.current, trailingMs: this.#trailingSince === undefined ? 0 : now - this.#trailingSince, replacedConnections: this.#reader.replacedConnections },
      writes: this.#latencies.summary(),
      staleReads: this.#staleReads(),
      offlineSince: this.#offline?.since ?? null,
      failure: this.#failure ?? null,
    };
  }

  health(): StorageHealth {
    if (this.#closed) return { ready: false, reason: 'closed' };
    if (this.#failure !== undefined) return { ready: false, reason: this.#failure.code, since: this.#failure.since, staleReads: true };
    if (!this.#commands.isReady) return { ready: false, reason: this.#offline?.code ?? 'ECONNREFUSED', staleReads: true, ...(this.#offline === undefined ? {} : { since: this.#offline.since }) };
    return this.#staleReads() ? { ready: true, staleReads: true } : { ready: true };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#reader.stop();
    // Politely when connected (QUIT after what is in flight), within a bound; a client still reconnecting is just dropped.
    if (this.#commands.isReady) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
      await Promise.race([this.#commands.close().catch(() => undefined), bound]);
      clearTimeout(timer);
    }
    this.#commands.destroy();
  }

  #deliver(events: readonly OrderEvent[]): void {
    for (const parsed of events) {
      const event = this.#sent.size === 0 ? parsed : this.#withOwnOrder(parsed);
      this.#feed.push(event);
    }
    const delivered = this.#reader.delivered;
    if (delivered > this.#head) this.#head = delivered;
    this.#trailingSince = delivered >= this.#head ? undefined : Date.now();
  }

  /**
   * One of this instance's own writes, back from the stream, carries the
   * order object the command was decided with rather than the copy parsed
   * from the stream: the writer's answer and the projection hold the same
   * object, and its JSON, encoded for the append, is not encoded again for
   * the sockets.
   */
  #withOwnOrder(event: OrderEvent): OrderEvent {
    const key = changeKey(event.type, event.order);
    const order = this.#sent.get(key);
    if (order === undefined) return event;
    this.#sent.delete(key);
    return event.type === 'order.updated' ? { ...event, order } : { type: event.type, seq: event.seq, order };
  }

  /** A seq is known to be committed: the tail should bring it soon. */
  #committed(seq: number): void {
    if (seq <= this.#head) return;
    this.#head = seq;
    this.#trailingSince ??= Date.now();
  }

  /**
   * Once a second: is the history still ours (the epoch), how far is the
   * head, and is the tail keeping up? A tail that trails the head for
   * {@link STUCK_TAIL_MS}, or whose read has waited well past its block
   * time, gets a new connection.
   */
  async #watch(): Promise<void> {
    if (this.#watching || this.#closed || this.#failure !== undefined || !this.#commands.isReady) return;
    this.#watching = true;
    try {
      const [epoch, head] = arrayReply(await this.#commands.sendCommand(['MGET', this.#keys.epoch, this.#keys.seq]), 'MGET');
      if (stringReply(epoch, 'epoch') !== this.epoch) {
        this.#fail('EPOCHLOST', 'Redis no longer holds the history this instance serves (its data was lost or replaced); restart this instance');
        return;
      }
      this.#committed(integerReply(head ?? '0', 'seq'));
      const now = Date.now();
      const trailing = this.#trailingSince !== undefined && now - this.#trailingSince > STUCK_TAIL_MS;
      const hung = this.#reader.readingFor(now) > READ_BLOCK_MS + STUCK_TAIL_MS;
      if (trailing || hung) {
        this.#options.logger.warn('the event tail stopped delivering; reading on a new connection', { delivered: this.#reader.delivered, head: this.#head, hung });
        this.#trailingSince = now;
        this.#reader.replaceConnection();
      }
    } catch {
      // Offline: the connection's events report it.
    } finally {
      this.#watching = false;
    }
  }

  #staleReads(): boolean {
    return !this.#commands.isReady || !this.#reader.current || (this.#trailingSince !== undefined && Date.now() - this.#trailingSince > STUCK_TAIL_MS);
  }

  #wentOffline(error: Error): void {
    if (this.#offline !== undefined || this.#closed) return;
    const code = (error as NodeJS.ErrnoException).code ?? error.constructor.name;
    this.#offline = { code, since: new Date().toISOString(), at: Date.now() };
    this.#options.logger.warn('Redis is unreachable: writes get 503, reads may be stale', { redis: this.#options.where, code, error: error.message });
  }

  #cameBack(): void {
    if (this.#offline === undefined) return;
    this.#options.logger.info('Redis is reachable again', { redis: this.#options.where, offlineMs: Date.now() - this.#offline.at });
    this.#offline = undefined;
    // The tail was away too: it gets its own time to catch up before it counts as stuck.
    if (this.#trailingSince !== undefined) this.#trailingSince = Date.now();
  }

  #fail(code: string, message: string): void {
    if (this.#failure !== undefined) return;
    this.#failure = { code, message, since: new Date().toISOString() };
    this.#options.logger.error(message, { code, redis: this.#options.where, delivered: this.#reader.delivered });
  }

  #refuseIfBroken(): void {
    if (this.#closed) throw new StorageUnavailableError('ECLOSED', 'the Redis backend is closed');
    if (this.#failure !== undefined) throw new StorageUnavailableError(this.#failure.code, this.#failure.message);
  }

  /** A command that failed, as the error a client is answered with. */
  #unavailable(error: unknown, what: string): StorageUnavailableError {
    const failure = this.#options.classify(error);
    const message = `${what}: ${(error as Error).message}`;
    if (failure === 'refused') this.#options.logger.error('Redis refused a command', { error: message });
    const code = (error as NodeJS.ErrnoException).code ?? this.#offline?.code ?? (failure === 'not-sent' ? 'EOFFLINE' : 'EREDIS');
    return new StorageUnavailableError(code, message, { outcomeUnknown: failure === 'unknown' });
  }
}

/**
 * What tells one change from another: two instances may race to move one
 * order from the same version, and only one of them commits, so the key
 * holds everything a status change can set. Changes with equal keys carry
 * equal orders (a move changes only the status, its history entry and
 * `updatedAt`; ids are never reused).
 */
function changeKey(type: OrderEvent['type'], order: Order): string {
  return `${type}|${order.id}|${order.version}|${order.status}|${order.updatedAt}`;
}
