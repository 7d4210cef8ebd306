/**
 * @module store/redis/replies
 * Reading Redis replies (RESP2, as the backend's connections speak it)
 * into typed values. The connection is untyped on purpose: a reply that is
 * not the shape we wrote means the data is not ours, and says so.
 */

import type { LogEvent } from '../../domain/events.ts';
import { seqOfEntryId } from './keys.ts';

/** What the backend needs of a node-redis connection (typed here so the rest needs none of its generics). */
export interface RedisConnection {
  readonly isReady: boolean;
  sendCommand<T = unknown>(args: readonly string[], options?: { readonly timeout?: number }): Promise<T>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready' | 'end' | 'reconnecting', listener: () => void): unknown;
}

/** A reply that is not what this backend writes: the data was changed by something else, or is not ours. */
export class UnexpectedReplyError extends Error {
  override readonly name = 'UnexpectedReplyError';
  readonly code = 'EBADDATA';
}

/**
 * A reply that must be a string (a bulk string, or nil as `undefined`).
 * @param reply the reply
 * @param what what it is, for the error
 */
export function stringReply(reply: unknown, what: string): string | undefined {
  if (reply === null || reply === undefined) return undefined;
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  throw new UnexpectedReplyError(`${what}: expected a string, got ${typeof reply}`);
}

/**
 * A reply that must be an array.
 * @param reply the reply
 * @param what what it is, for the error
 */
export function arrayReply(reply: unknown, what: string): readonly unknown[] {
  if (Array.isArray(reply)) return reply as readonly unknown[];
  throw new UnexpectedReplyError(`${what}: expected an array, got ${reply === null ? 'nil' : typeof reply}`);
}

/**
 * The JSON values in an array reply that `isOurs` accepts, in order; any
 * other item (not JSON, or not our shape) is skipped, and a reply that is
 * not an array gives none. For side data a person may also have written to.
 * @param reply the reply (LRANGE, HVALS)
 * @param isOurs the shape the values were written in
 */
export function jsonItems<T>(reply: unknown, isOurs: (value: unknown) => value is T): T[] {
  if (!Array.isArray(reply)) return [];
  const items: T[] = [];
  for (const text of reply) {
    try {
      const value: unknown = JSON.parse(String(text));
      if (isOurs(value)) items.push(value);
    } catch {
      // not JSON: not one of ours
    }
  }
  return items;
}

/**
 * A reply that must be a whole number (an integer reply, or a string of one).
 * @param reply the reply
 * @param what what it is, for the error
 */
export function integerReply(reply: unknown, what: string): number {
  const value = typeof reply === 'number' ? reply : Number(stringReply(reply, what));
  if (!Number.isSafeInteger(value)) throw new UnexpectedReplyError(`${what}: expected a whole number, got ${String(reply)}`);
  return value;
}

/** One stream entry: the seq its id stands for, and the event's JSON. */
export interface StreamEntry {
  readonly seq: number;
  readonly json: string;
}

/**
 * The entries of an XRANGE reply (or of one stream in an XREAD reply):
 * `[[id, [field, value, ...]], ...]`, each with the event in field `e`.
 * @param reply the reply
 */
export function streamEntries(reply: unknown): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const raw of arrayReply(reply, 'stream entries')) {
    const [id, fields] = arrayReply(raw, 'stream entry');
    const seq = seqOfEntryId(stringReply(id, 'entry id') ?? '');
    const values = arrayReply(fields, 'entry fields');
    const json = stringReply(values[1], 'event');
    if (!Number.isSafeInteger(seq) || values[0] !== 'e' || json === undefined) throw new UnexpectedReplyError(`stream entry ${String(id)} is not a liveorders event`);
    entries.push({ seq, json });
  }
  return entries;
}

/**
 * The entries of an XREAD reply for one stream; none when it timed out.
 * @param reply `[[stream, entries]]`, or nil
 */
export function xreadEntries(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  const streams = arrayReply(reply, 'XREAD');
  if (streams.length === 0) return [];
  return streamEntries(arrayReply(streams[0], 'XREAD stream')[1]);
}

/**
 * An event from its stream entry. The script wrote it (the backend's own
 * JSON), so it is parsed, not validated field by field; its seq must be
 * the entry's.
 * @param entry a stream entry
 */
export function eventOf(entry: StreamEntry): LogEvent {
  const event = JSON.parse(entry.json) as LogEvent;
  const subject = 'order' in event ? event.order?.id : (event as { product?: { sku?: unknown } }).product?.sku;
  if (event.seq !== entry.seq || typeof subject !== 'string') throw new UnexpectedReplyError(`stream entry 0-${entry.seq} holds another event`);
  return event;
}
