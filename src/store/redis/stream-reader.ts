/**
 * @module store/redis/stream-reader
 * An instance's tail of the Redis event stream: blocking reads on a
 * connection of its own (a blocking read would hold up every command
 * queued behind it, and must not be cut by the command timeout), from the
 * last seq delivered, so a reconnect resumes exactly where it stopped.
 * Entries must follow each other without a gap; a gap means the stream was
 * trimmed past this instance (it was cut off for long), and it stops.
 */

import type { LogEvent } from '../../domain/events.ts';
import { entryId } from './keys.ts';
import { eventOf, xreadEntries, type RedisConnection } from './replies.ts';

/** How long one blocking read waits for new entries, in milliseconds; then it is sent again. */
export const READ_BLOCK_MS = 2000;

/** Entries taken per read at most. */
const READ_COUNT = 1000;

/** Pause before trying again while the connection is down, in milliseconds. */
const OFFLINE_POLL_MS = 50;

/** What a {@link StreamReader} needs. */
export interface StreamReaderOptions {
  /** Make a new connection for reading (not yet connected). */
  readonly connect: () => RedisConnection;
  /** The stream. */
  readonly stream: string;
  /** The seq of the last event already delivered. */
  readonly after: number;
  /** Takes each batch, in order, with the JSON of its last entry as stored (what the history checks compare). */
  readonly deliver: (events: readonly LogEvent[], lastJson: string) => void;
  /**
   * Asked on each (re)connected connection before it reads: whether the
   * history is still the one delivered so far. False stops the reader (its
   * owner has taken over); a rejection is asked again after a pause.
   */
  readonly beforeReading?: (client: RedisConnection) => Promise<boolean>;
  /** Told when reading cannot go on (a gap, an entry that is not ours). */
  readonly onFailure: (code: string, message: string) => void;
}

/** Reads the event stream from a position, forever, across reconnects. */
export class StreamReader {
  readonly #options: StreamReaderOptions;
  #client: RedisConnection;
  #delivered: number;
  /** When the read in flight was sent, if one is. */
  #readingSince: number | undefined;
  /** Whether the last read succeeded (reads are current), as opposed to failing while Redis is away. */
  #current = false;
  #stopped = false;
  /** The connection that (re)connected and has not been checked yet ({@link StreamReaderOptions.beforeReading}). */
  #unchecked: RedisConnection | undefined;
  /** Connections replaced because they stopped answering. */
  replacedConnections = 0;

  /** @param options the stream, where to start, and where events go */
  constructor(options: StreamReaderOptions) {
    this.#options = options;
    this.#delivered = options.after;
    this.#client = this.#open();
    void this.#run();
  }

  /** The seq of the last event delivered. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Whether the last read came back (false while Redis is unreachable). */
  get current(): boolean {
    return this.#current && this.#client.isReady;
  }

  /** How long the read in flight has been waiting, in milliseconds (0: none). */
  readingFor(now: number): number {
    return this.#readingSince === undefined ? 0 : now - this.#readingSince;
  }

  /** Drop the connection and read on a new one: the old one stopped answering (a dead route, a stalled proxy). */
  replaceConnection(): void {
    if (this.#stopped) return;
    const old = this.#client;
    this.#client = this.#open();
    this.#current = false;
    this.replacedConnections++;
    old.destroy();
  }

  /** Stop reading and close the connection. */
  stop(): void {
    this.#stopped = true;
    this.#client.destroy();
  }

  #open(): RedisConnection {
    const client = this.#options.connect();
    // Errors are retried by the loop; the command connection reports the outage.
    client.on('error', () => undefined);
    client.on('ready', () => (this.#unchecked = client));
    client.connect().catch(() => undefined);
    return client;
  }

  async #run(): Promise<void> {
    const { stream } = this.#options;
    while (!this.#stopped) {
      const client = this.#client;
      if (!client.isReady) {
        this.#current = false;
        await pause(OFFLINE_POLL_MS);
        continue;
      }
      if (this.#unchecked === client && this.#options.beforeReading !== undefined) {
        let same: boolean;
        try {
          same = await this.#options.beforeReading(client);
        } catch {
          this.#current = false;
          await pause(OFFLINE_POLL_MS);
          continue;
        }
        if (!same) return;
        if (this.#unchecked === client) this.#unchecked = undefined;
        continue;
      }
      let reply: unknown;
      this.#readingSince = Date.now();
      try {
        reply = await client.sendCommand(['XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(READ_BLOCK_MS), 'STREAMS', stream, entryId(this.#delivered)]);
      } catch {
        // Disconnected, or replaced: the loop waits for a connection and reads again from the same seq.
        this.#current = false;
        continue;
      } finally {
        this.#readingSince = undefined;
      }
      if (this.#stopped || client !== this.#client) continue;
      this.#current = true;
      if (!this.#take(reply)) return;
    }
  }

  /** Deliver what a read brought; false when reading must stop. */
  #take(reply: unknown): boolean {
    let events: LogEvent[];
    let lastJson: string;
    try {
      const entries = xreadEntries(reply);
      if (entries.length === 0) return true;
      events = entries.map(eventOf);
      lastJson = entries[entries.length - 1]!.json;
    } catch (error) {
      this.#options.onFailure('EBADDATA', `the event stream holds an entry this backend did not write: ${(error as Error).message}`);
      return false;
    }
    for (let i = 0; i < events.length; i++) {
      if (events[i]!.seq !== this.#delivered + 1 + i) {
        this.#options.onFailure('EBEHIND', `the event stream no longer holds seq ${this.#delivered + 1 + i} (it was trimmed while this instance was away, or the history was lost)`);
        return false;
      }
    }
    this.#delivered = events[events.length - 1]!.seq;
    this.#options.deliver(events, lastJson);
    return true;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
