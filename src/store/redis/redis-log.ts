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
 * command that gets no answer within the deadline fails as if the
 * connection was lost (a stalled Redis), the instance turns not ready, and
 * a connection that stays silent is replaced; a tail that stops delivering
 * while the history moves on is replaced too. A Redis that refuses writes
 * for lack of memory turns the instance not ready until a probe write
 * goes through.
 *
 * A history that was lost (Redis flushed, restored from an older
 * snapshot, failed over to a replica that was behind: see
 * history-check.ts) or trimmed past this instance stops writes at once;
 * the instance then recovers in place: it moves to the history's new
 * epoch, loads the orders again, tells its listeners (the projection, the
 * sockets: see {@link RedisLog.onReload}) and reads the stream on from
 * there.
 */

import { isOrderChange, versionBefore, type Change } from '../../domain/decide.ts';
import type { LogEvent } from '../../domain/events.ts';
import type { Order, OrderEvent } from '../../protocol/orders.ts';
import { RepeatedLog, type Logger } from '../../support/logger.ts';
import { StorageUnavailableError } from '../errors.ts';
import type { AppendOutcome, EventSink, IdempotencyClaim, IdempotencyRecord, LoadedState, OrderLog, StorageHealth, StorageStats } from '../ports.ts';
import { LatencySamples } from '../latency-samples.ts';
import { TailFeed } from '../tail-feed.ts';
import { parseIdempotencyRecord, runAppend } from './append-script.ts';
import { RedisDeadlineError, withDeadline, type CommandSender } from './deadline.ts';
import { digestOf, entryAtOrBefore, epochAndHead, lostHistory, markAt, nextEpoch, type AppliedMark } from './history-check.ts';
import { entryId, type RedisKeys } from './keys.ts';
import { loadOrders } from './load.ts';
import { eventOf, integerReply, streamEntries, stringReply, type RedisConnection } from './replies.ts';
import { READ_BLOCK_MS, StreamReader } from './stream-reader.ts';

/** How often the watchdog looks at the epoch, the head of the history and the tail, in milliseconds. */
const WATCH_INTERVAL_MS = 1000;

/** How long the tail may trail a seq known to be committed before its connection is replaced, in milliseconds. */
export const STUCK_TAIL_MS = 3000;

/** Pause between attempts to recover a lost history, in milliseconds. */
const RECOVERY_RETRY_MS = 250;

/** Deadlines missed in a row, at least this long apart, before the command connection is replaced (a route that black-holes it). */
const REPLACE_AFTER_DEADLINES = 2;

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
  /** Makes a new command connection (not connected), for one that stopped answering. */
  readonly connectCommands: () => RedisConnection;
  /** How long a command may wait for its answer, in milliseconds. */
  readonly commandTimeoutMs: number;
  /** The tracking key Redis held at start (hex): put back if Redis lost it with its data. */
  readonly trackingKeyHex: string;
  /** Makes a new connection for the tail. */
  readonly connectTail: () => RedisConnection;
  /** Tells whether a failed command may have been executed. */
  readonly classify: (error: unknown) => CommandFailure;
  readonly keys: RedisKeys;
  readonly epoch: string;
  /** The seq the loaded orders are as of (the tail goes on from here), and the digest of its entry. */
  readonly applied: AppliedMark;
  /** Entries the stream keeps at least (approximately trimmed past it). */
  readonly streamLength: number;
  /** Where Redis is, without credentials, for stats. */
  readonly where: string;
  readonly logger: Logger;
  readonly onSinkError: (error: unknown) => void;
}

/** Why writes are refused: a history lost (being recovered), or data that is not ours (only a restart, after a look, repairs it). */
interface Failure {
  readonly code: string;
  readonly message: string;
  readonly since: string;
  readonly recovering: boolean;
}

/** Redis left a command unanswered past the deadline. */
interface Unresponsive {
  readonly since: string;
  readonly at: number;
  /** When the command connection was last replaced because of it. */
  replacedAt: number;
}

/** Redis refuses writes: out of memory (`maxmemory` with `noeviction`). */
interface OutOfMemory {
  readonly since: string;
  readonly at: number;
  refusedWrites: number;
}

/** Told the state an instance starts over from after its history was replaced. */
export type ReloadListener = (state: LoadedState) => void;

/** The history in Redis, as one instance sees and writes it. */
export class RedisLog implements OrderLog {
  readonly #options: RedisLogOptions;
  #epoch: string;
  #commands: RedisConnection;
  readonly #keys: RedisKeys;
  #reader: StreamReader;
  readonly #feed: TailFeed;
  readonly #watchdog: NodeJS.Timeout;
  /** Commands with our own deadline (see deadline.ts). */
  readonly #send: CommandSender;
  readonly #reloadListeners: ReloadListener[] = [];
  readonly #refusals: RepeatedLog;
  #watching = false;
  #failure: Failure | undefined;
  #offline: { readonly code: string; readonly since: string; readonly at: number } | undefined;
  #unresponsive: Unresponsive | undefined;
  #outOfMemory: OutOfMemory | undefined;
  /** The last event delivered: its seq, and its entry's JSON (digested when a check needs it). */
  #applied: { seq: number; json: string | undefined; digest: string };
  /** The newest seq known to be committed (by a write of ours, or the watchdog's look at the head). */
  #head: number;
  /** Since when the tail has trailed `#head`, if it does. */
  #trailingSince: number | undefined;
  readonly #latencies = new LatencySamples(LATENCY_SAMPLES);
  #closed = false;
  /** Histories recovered in place, for stats. */
  #recoveries = 0;
  /** This instance's writes on their way, by {@link changeKey}, until the tail brings them back. */
  readonly #sent = new Map<string, Order>();

  /** @param options connections, keys, position and settings */
  constructor(options: RedisLogOptions) {
    this.#options = options;
    this.#epoch = options.epoch;
    this.#keys = options.keys;
    this.#refusals = new RepeatedLog(options.logger);
    this.#commands = options.commands;
    this.#watchConnection(this.#commands);
    this.#send = { sendCommand: (args) => this.#call(args) };
    this.#head = options.applied.seq;
    this.#applied = { seq: options.applied.seq, json: undefined, digest: options.applied.digest };
    // No copy of recent events here: the live node keeps the one in-memory history; late tails read the stream.
    this.#feed = new TailFeed((after, limit) => this.replay({ seq: after, epoch: this.#epoch }, limit), options.onSinkError);
    this.#reader = this.#startReader(options.applied.seq);
    this.#watchdog = setInterval(() => void this.#watch(), WATCH_INTERVAL_MS).unref();
  }

  /** The epoch of the history this instance serves; it changes when a lost history is recovered. */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Commands on the current command connection (it is replaced when Redis
   * stops answering), each within the deadline: for keys kept beside the
   * history, such as consumers' positions.
   */
  get sender(): CommandSender {
    return this.#send;
  }

  /**
   * Be told when the history was replaced (lost, then recovered in place):
   * with the state loaded again, before any event after it is delivered;
   * tails go on from its position.
   * @param listener takes the new state
   */
  onReload(listener: ReloadListener): void {
    this.#reloadListeners.push(listener);
  }

  async append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    this.#refuseIfBroken();
    const started = performance.now();
    // Only an order's change brings its own object back (see #withOwnOrder); '' stands for none.
    const sent = isOrderChange(change) ? changeKey(change.type, change.order) : '';
    if (isOrderChange(change)) this.#sent.set(sent, change.order);
    const epoch = this.#epoch;
    let outcome;
    try {
      // The epoch and the applied mark are taken now, with the projection the change was decided against.
      outcome = await runAppend(this.#send, this.#keys, epoch, this.#appliedMark(), change, claim, this.#options.streamLength);
    } catch (error) {
      this.#sent.delete(sent);
      throw this.#unavailable(error, isOrderChange(change) ? `append of ${change.type} for ${change.order.id} (version ${versionBefore(change)})` : `append of ${change.type} for ${change.product.sku}`);
    }
    this.#latencies.record(performance.now() - started);
    if (outcome.kind !== 'committed') this.#sent.delete(sent);
    if (epoch !== this.#epoch && outcome.kind !== 'epoch' && outcome.kind !== 'lost') {
      // Answered by the history this instance has since left: its seq means nothing in the one served now.
      this.#sent.delete(sent);
      throw new StorageUnavailableError('EHISTORYLOST', 'the history this write was sent to was replaced before its answer came', { outcomeUnknown: true });
    }
    switch (outcome.kind) {
      case 'committed':
        if (this.#outOfMemory !== undefined) this.#memoryBack();
        this.#committed(outcome.seq);
        return outcome;
      case 'conflict':
        this.#committed(outcome.headSeq);
        return outcome;
      case 'duplicate':
        return outcome;
      case 'epoch':
        this.#historyLost('EPOCHLOST', 'Redis no longer holds the history this instance serves (its data was lost or replaced)');
        throw new StorageUnavailableError('EPOCHLOST', 'the history in Redis is gone');
      case 'lost':
        this.#historyLost('EHISTORYLOST', `Redis is behind, or holds another event at, seq ${this.#applied.seq} that this instance applied (it came back with older data)`);
        throw new StorageUnavailableError('EHISTORYLOST', 'the history in Redis lost events this instance applied; nothing was written');
    }
  }

  async findIdempotent(key: string): Promise<IdempotencyRecord | undefined> {
    this.#refuseIfBroken();
    let stored: unknown;
    try {
      stored = await this.#send.sendCommand(['GET', this.#keys.idempotency(key)]);
    } catch (error) {
      throw this.#unavailable(error, 'idempotency lookup', false);
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
      reply = await this.#send.sendCommand(['GET', this.#keys.seq]);
    } catch (error) {
      throw this.#unavailable(error, 'reading the head', false);
    }
    const head = integerReply(reply ?? '0', 'seq');
    this.#committed(head);
    return head;
  }

  async replay(after: { seq: number; epoch: string }, limit: number): Promise<readonly LogEvent[] | 'reset'> {
    if (after.epoch !== this.#epoch || this.#failure !== undefined) return 'reset';
    // The stream, and the head, read together (one round trip): events after the head would be a client's invention.
    const [range, head] = await Promise.all([
      this.#send.sendCommand(['XRANGE', this.#keys.events, `(${entryId(after.seq)}`, '+', 'COUNT', String(limit)]),
      this.#send.sendCommand(['GET', this.#keys.seq]),
    ]);
    const entries = streamEntries(range);
    if (after.seq > integerReply(head ?? '0', 'seq') || after.epoch !== this.#epoch) return 'reset';
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
      unansweredSince: this.#unresponsive?.since ?? null,
      outOfMemory: this.#outOfMemory === undefined ? null : { since: this.#outOfMemory.since, refusedWrites: this.#outOfMemory.refusedWrites },
      recoveries: this.#recoveries,
      failure: this.#failure ?? null,
    };
  }

  health(): StorageHealth {
    if (this.#closed) return { ready: false, reason: 'closed' };
    if (this.#failure !== undefined) return { ready: false, reason: this.#failure.code, since: this.#failure.since, staleReads: true };
    if (!this.#commands.isReady) return { ready: false, reason: this.#offline?.code ?? 'ECONNREFUSED', staleReads: true, ...(this.#offline === undefined ? {} : { since: this.#offline.since }) };
    if (this.#unresponsive !== undefined) return { ready: false, reason: 'ETIMEDOUT', since: this.#unresponsive.since, staleReads: true };
    if (this.#outOfMemory !== undefined) return { ready: false, reason: 'OOM', since: this.#outOfMemory.since, ...(this.#staleReads() ? { staleReads: true } : {}) };
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

  /** One command on the command connection, within the deadline; a missed deadline turns the instance not ready. */
  async #call(args: readonly string[]): Promise<unknown> {
    let reply: unknown;
    try {
      reply = await withDeadline(this.#commands.sendCommand(args), this.#options.commandTimeoutMs, args[0] ?? 'a command');
    } catch (error) {
      if (error instanceof RedisDeadlineError) this.#missedDeadline();
      throw error;
    }
    if (this.#unresponsive !== undefined) this.#answersAgain();
    return reply;
  }

  #startReader(after: number): StreamReader {
    return new StreamReader({
      connect: this.#options.connectTail,
      stream: this.#keys.events,
      after,
      deliver: (events, lastJson) => this.#deliver(events, lastJson),
      beforeReading: (tail) => this.#tailMayRead(tail),
      onFailure: (code, message) => (code === 'EBEHIND' ? this.#historyLost(code, message) : this.#fail(code, message)),
    });
  }

  #watchConnection(connection: RedisConnection): void {
    connection.on('error', (error) => {
      if (connection === this.#commands) this.#wentOffline(error);
    });
    connection.on('ready', () => {
      if (connection === this.#commands) this.#cameBack();
    });
  }

  #deliver(events: readonly LogEvent[], lastJson: string): void {
    for (const parsed of events) {
      const event = this.#sent.size === 0 || !('order' in parsed) ? parsed : this.#withOwnOrder(parsed);
      this.#feed.push(event);
    }
    const delivered = this.#reader.delivered;
    this.#applied = { seq: delivered, json: lastJson, digest: '' };
    if (delivered > this.#head) this.#head = delivered;
    this.#trailingSince = delivered >= this.#head ? undefined : Date.now();
  }

  /** The last event delivered, with its digest (computed once per delivery, and only when a check needs it). */
  #appliedMark(): AppliedMark {
    const applied = this.#applied;
    if (applied.digest === '' && applied.json !== undefined) {
      applied.digest = digestOf(applied.json);
      applied.json = undefined;
    }
    return { seq: applied.seq, digest: applied.digest };
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
    return { ...event, order };
  }

  /** A seq is known to be committed: the tail should bring it soon. */
  #committed(seq: number): void {
    if (seq <= this.#head) return;
    this.#head = seq;
    this.#trailingSince ??= Date.now();
  }

  /**
   * Once a second: does Redis answer within the deadline, is the history
   * still the one applied here (the epoch, the head, the entry at the seq
   * applied), and is the tail keeping up? A tail that trails the head for
   * {@link STUCK_TAIL_MS}, or whose read has waited well past its block
   * time, gets a new connection. While Redis refuses writes for lack of
   * memory, a probe write says when it takes them again.
   */
  async #watch(): Promise<void> {
    if (this.#watching || this.#closed || this.#failure !== undefined || !this.#commands.isReady) return;
    this.#watching = true;
    try {
      const head = await this.#historyHeld(this.#send);
      if (head === undefined) return;
      this.#committed(head);
      this.#watchTail();
      if (this.#outOfMemory !== undefined) await this.#probeMemory();
    } catch {
      // Offline or unanswered: the connection's events, or the deadline, report it.
    } finally {
      this.#watching = false;
    }
  }

  /**
   * Is the history in Redis still the one this instance applied (see
   * history-check.ts)? Its head seq when it is; `undefined` when it is not
   * (then recovery has begun) or when this instance moved on meanwhile.
   * @param redis the connection to ask on, with a deadline
   */
  async #historyHeld(redis: CommandSender): Promise<number | undefined> {
    const epoch = this.#epoch;
    const applied = this.#appliedMark();
    const [now, entry] = await Promise.all([epochAndHead(redis, this.#keys), applied.seq === 0 ? undefined : entryAtOrBefore(redis, this.#keys, applied.seq)]);
    if (this.#failure !== undefined || epoch !== this.#epoch) return undefined;
    if (now.epoch !== epoch) {
      this.#historyLost('EPOCHLOST', now.epoch === undefined ? 'Redis no longer holds the history this instance serves (its data was lost or flushed)' : 'the history in Redis moved to another epoch (another instance found it lost)');
      return undefined;
    }
    const head = integerReply(now.head ?? '0', 'seq');
    const lost = lostHistory(applied, head, entry);
    if (lost !== undefined) {
      this.#historyLost('EHISTORYLOST', lost);
      return undefined;
    }
    return head;
  }

  /**
   * Before the tail reads on a connection that (re)connected: a Redis back
   * from a restart or a failover may hold older data, and events read past
   * the seq applied here could belong to another history, so the tail reads
   * on only once the history is known to be the same.
   * @param tail the tail's connection
   */
  async #tailMayRead(tail: RedisConnection): Promise<boolean> {
    const ms = this.#options.commandTimeoutMs;
    const head = await this.#historyHeld({ sendCommand: (args) => withDeadline(tail.sendCommand(args), ms, args[0] ?? 'a command') });
    return head !== undefined;
  }

  #watchTail(): void {
    const now = Date.now();
    const trailing = this.#trailingSince !== undefined && now - this.#trailingSince > STUCK_TAIL_MS;
    const hung = this.#reader.readingFor(now) > READ_BLOCK_MS + STUCK_TAIL_MS;
    if (trailing || hung) {
      this.#options.logger.warn('the event tail stopped delivering; reading on a new connection', { delivered: this.#reader.delivered, head: this.#head, hung });
      this.#trailingSince = now;
      this.#reader.replaceConnection();
    }
  }

  /**
   * The history this instance applied is gone: refuse writes at once (the
   * next seq Redis gives out could be one clients already saw), then
   * recover in place.
   */
  #historyLost(code: string, message: string): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = { code, message, since: new Date().toISOString(), recovering: true };
    this.#options.logger.error(`${message}; writes are refused while this instance loads the history again`, { code, redis: this.#options.where, epoch: this.#epoch, applied: this.#applied.seq });
    void this.#recover(this.#epoch);
  }

  /** Move to the history's new epoch, load it, and start over from there; tried again until it works or the log closes. */
  async #recover(lost: string): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        // A trimmed tail (EBEHIND) loses nothing of the history: it keeps its epoch and only loads again.
        const epoch = this.#failure?.code === 'EBEHIND' ? lost : await nextEpoch(this.#send, this.#keys, lost, this.#options.trackingKeyHex);
        const state = await loadOrders(this.#send, this.#keys, epoch);
        const mark = await markAt(this.#send, this.#keys, state.position.seq);
        if (this.#closed) return;
        this.#startOver(state, mark);
        this.#options.logger.info('recovered in place: serving the history in Redis again, sockets sent a reset snapshot', { epoch, lostEpoch: lost, seq: state.position.seq, orders: state.orders.length, ms: Date.now() - started, attempts: attempt });
        return;
      } catch (error) {
        if (attempt === 1 || attempt % 20 === 0) this.#options.logger.warn('cannot load the history from Redis yet; trying again', { error: (error as Error).message, attempt });
        await new Promise((resolve) => setTimeout(resolve, RECOVERY_RETRY_MS));
      }
    }
  }

  /** Serve `state` from now on: every tail (and listener) starts over from it, the stream is read on from its seq. */
  #startOver(state: LoadedState, mark: AppliedMark): void {
    const { seq, epoch } = state.position;
    this.#reader.stop();
    this.#epoch = epoch;
    this.#feed.restart(seq);
    this.#sent.clear();
    this.#applied = { seq, json: undefined, digest: mark.digest };
    this.#head = seq;
    this.#trailingSince = undefined;
    this.#recoveries++;
    for (const listener of this.#reloadListeners) {
      try {
        listener(state);
      } catch (error) {
        this.#options.onSinkError(error);
      }
    }
    this.#reader = this.#startReader(seq);
    this.#failure = undefined;
  }

  #staleReads(): boolean {
    return !this.#commands.isReady || !this.#reader.current || this.#unresponsive !== undefined || (this.#trailingSince !== undefined && Date.now() - this.#trailingSince > STUCK_TAIL_MS);
  }

  /**
   * A command got no answer in time: not ready from now on. A connection
   * that stays silent for several deadlines is replaced, as a route that
   * black-holes it never comes back by itself.
   */
  #missedDeadline(): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#unresponsive === undefined) {
      this.#unresponsive = { since: new Date(now).toISOString(), at: now, replacedAt: now };
      this.#options.logger.warn('Redis does not answer within the deadline: writes get 503, /healthz says not ready', { redis: this.#options.where, deadlineMs: this.#options.commandTimeoutMs });
      return;
    }
    if (now - this.#unresponsive.replacedAt < REPLACE_AFTER_DEADLINES * this.#options.commandTimeoutMs) return;
    this.#unresponsive.replacedAt = now;
    this.#options.logger.warn('Redis still does not answer: opening a new command connection', { redis: this.#options.where });
    const old = this.#commands;
    this.#commands = this.#options.connectCommands();
    this.#watchConnection(this.#commands);
    this.#commands.connect().catch(() => undefined);
    old.destroy();
    // The tail's connection most likely takes the same dead route: it is replaced now rather than after its own watch.
    this.#reader.replaceConnection();
  }

  #answersAgain(): void {
    const unresponsive = this.#unresponsive;
    if (unresponsive === undefined) return;
    this.#unresponsive = undefined;
    this.#options.logger.info('Redis answers again', { redis: this.#options.where, silentMs: Date.now() - unresponsive.at });
  }

  /** A write that went through after Redis refused writes for lack of memory. */
  #memoryBack(): void {
    const oom = this.#outOfMemory;
    if (oom === undefined) return;
    this.#outOfMemory = undefined;
    this.#options.logger.info('Redis takes writes again (memory was freed)', { redis: this.#options.where, refusedWrites: oom.refusedWrites, ms: Date.now() - oom.at });
  }

  /** While out of memory: does a small write go through now? */
  async #probeMemory(): Promise<void> {
    try {
      await this.#send.sendCommand(['SET', this.#keys.memoryProbe, String(Date.now())]);
    } catch {
      return;
    }
    this.#memoryBack();
  }

  #wentOffline(error: Error): void {
    if (this.#offline !== undefined || this.#closed) return;
    const code = (error as NodeJS.ErrnoException).code ?? error.constructor.name;
    this.#offline = { code, since: new Date().toISOString(), at: Date.now() };
    this.#options.logger.warn('Redis is unreachable: writes get 503, reads may be stale', { redis: this.#options.where, code, error: error.message });
  }

  #cameBack(): void {
    if (this.#offline !== undefined) {
      this.#options.logger.info('Redis is reachable again', { redis: this.#options.where, offlineMs: Date.now() - this.#offline.at });
      this.#offline = undefined;
      // The tail was away too: it gets its own time to catch up before it counts as stuck.
      if (this.#trailingSince !== undefined) this.#trailingSince = Date.now();
    }
    // A Redis back from a restart may hold older data: look at once, not at the next tick.
    void this.#watch();
  }

  #fail(code: string, message: string): void {
    if (this.#failure !== undefined) return;
    this.#failure = { code, message, since: new Date().toISOString(), recovering: false };
    this.#options.logger.error(message, { code, redis: this.#options.where, delivered: this.#reader.delivered });
  }

  #refuseIfBroken(): void {
    if (this.#closed) throw new StorageUnavailableError('ECLOSED', 'the Redis backend is closed');
    if (this.#failure !== undefined) throw new StorageUnavailableError(this.#failure.code, this.#failure.message, this.#failure.recovering ? { retryAfterSeconds: 1 } : {});
    // Nothing more is queued behind commands Redis left unanswered: refused at once until the watchdog hears from it again.
    if (this.#unresponsive !== undefined) throw new StorageUnavailableError('ETIMEDOUT', `Redis has not answered within ${this.#options.commandTimeoutMs} ms since ${this.#unresponsive.since}`, { retryAfterSeconds: 1 });
  }

  /**
   * A command that failed, as the error a client is answered with.
   * @param write whether it was a write (whose outcome may be unknown) or a lookup
   */
  #unavailable(error: unknown, what: string, write = true): StorageUnavailableError {
    const failure = this.#options.classify(error);
    const message = `${what}: ${(error as Error).message}`;
    if (failure === 'refused') {
      if ((error as Error).message.startsWith('OOM')) return this.#refusedForMemory(message);
      this.#refusals.warn('Redis refused a command', { error: message });
    }
    const code = (error as NodeJS.ErrnoException).code ?? this.#offline?.code ?? (failure === 'not-sent' ? 'EOFFLINE' : 'EREDIS');
    return new StorageUnavailableError(code, message, { outcomeUnknown: write && failure === 'unknown' });
  }

  /** Out of memory: one line when it starts (and one when it ends), however many writes are refused meanwhile. */
  #refusedForMemory(message: string): StorageUnavailableError {
    if (this.#outOfMemory === undefined) {
      this.#outOfMemory = { since: new Date().toISOString(), at: Date.now(), refusedWrites: 0 };
      this.#options.logger.error('Redis refuses writes: out of memory (maxmemory with noeviction); writes get 503 until memory is freed', { redis: this.#options.where, error: message });
    }
    this.#outOfMemory.refusedWrites++;
    return new StorageUnavailableError('OOM', message);
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
