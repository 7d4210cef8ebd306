/**
 * @module store/redis/history-check
 * Is the history in Redis still the one this instance applied? A Redis
 * that comes back with older data (an RDB restore, an `appendfsync
 * everysec` power loss, a failover to a replica that was behind) keeps its
 * epoch key, so the epoch alone does not tell. What does: the head seq is
 * lower than a seq this instance applied, or the stream's entry at that
 * seq is not the event it applied (compared by digest). Either means the
 * history was lost; the first instance to see it moves the history to a
 * new epoch, so every instance, and every client, leaves the old one.
 */

import { createHash, randomUUID } from 'node:crypto';
import type { CommandSender } from './deadline.ts';
import { entryId, type RedisKeys } from './keys.ts';
import { arrayReply, streamEntries, stringReply, type StreamEntry } from './replies.ts';

/** The last event an instance applied: its seq, and the digest of its entry's JSON ('' when unknown, as at seq 0). */
export interface AppliedMark {
  readonly seq: number;
  readonly digest: string;
}

/**
 * The digest an entry is compared by (the append script computes the same
 * with `redis.sha1hex`).
 * @param json the entry's event JSON, as stored
 */
export function digestOf(json: string): string {
  return createHash('sha1').update(json).digest('hex');
}

/**
 * The stream's entry at `seq`, or the newest before it when that one is
 * missing; `undefined` when the stream holds nothing up to `seq`.
 * @param redis sends the command
 * @param keys the history's keys
 * @param seq a seq
 */
export async function entryAtOrBefore(redis: CommandSender, keys: RedisKeys, seq: number): Promise<StreamEntry | undefined> {
  return streamEntries(await redis.sendCommand(['XREVRANGE', keys.events, entryId(seq), '-', 'COUNT', '1']))[0];
}

/**
 * The mark of the history's entry at `seq`, read right after a load (same
 * history): what later checks compare against.
 * @param redis sends the command
 * @param keys the history's keys
 * @param seq the seq the load is as of
 */
export async function markAt(redis: CommandSender, keys: RedisKeys, seq: number): Promise<AppliedMark> {
  if (seq === 0) return { seq, digest: '' };
  const entry = await entryAtOrBefore(redis, keys, seq);
  return { seq, digest: entry?.seq === seq ? digestOf(entry.json) : '' };
}

/**
 * Why the history in Redis is not the one applied, or `undefined` when it
 * is (as far as can be told: an entry trimmed away is not a loss).
 * @param applied the last event applied here
 * @param head the history's head seq now
 * @param entry {@link entryAtOrBefore} the applied seq, read with the head
 */
export function lostHistory(applied: AppliedMark, head: number, entry: StreamEntry | undefined): string | undefined {
  if (head < applied.seq) return `Redis is back at seq ${head}, behind seq ${applied.seq} that this instance applied (restored from an older snapshot, or a replica that was behind)`;
  if (applied.seq === 0 || entry === undefined) return undefined;
  if (entry.seq !== applied.seq) return `the event stream no longer holds seq ${applied.seq} that this instance applied, though it holds seq ${entry.seq}`;
  if (applied.digest !== '' && digestOf(entry.json) !== applied.digest) return `the event stream holds another event at seq ${applied.seq} than the one this instance applied (the history was rolled back and written again)`;
  return undefined;
}

/**
 * KEYS: epoch, tracking key. ARGV: the epoch found lost, a new epoch, the
 * tracking key (hex). The epoch moves on only if it is still the lost one
 * (or gone): instances that see the loss at once converge on the first
 * new epoch. The tracking key is put back if it went with the data, so
 * tracking links keep working.
 */
const NEW_EPOCH_LUA = `
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] then
  current = ARGV[2]
  redis.call('SET', KEYS[1], current)
end
redis.call('SET', KEYS[2], ARGV[3], 'NX')
return current
`;

/**
 * Leave a lost history: the epoch the history in Redis now has (a new one,
 * or the one another instance already moved it to).
 * @param redis sends the command
 * @param keys the history's keys
 * @param lost the epoch this instance served
 * @param trackingKeyHex the tracking key Redis held at start
 */
export async function nextEpoch(redis: CommandSender, keys: RedisKeys, lost: string, trackingKeyHex: string): Promise<string> {
  const reply = await redis.sendCommand(['EVAL', NEW_EPOCH_LUA, '2', keys.epoch, keys.trackingKey, lost, randomUUID(), trackingKeyHex]);
  const epoch = stringReply(reply, 'epoch');
  if (epoch === undefined) throw new Error('Redis answered no epoch');
  return epoch;
}

/**
 * The epoch and head seq, in one round trip.
 * @param redis sends the command
 * @param keys the history's keys
 */
export async function epochAndHead(redis: CommandSender, keys: RedisKeys): Promise<{ epoch: string | undefined; head: string | undefined }> {
  const [epoch, head] = arrayReply(await redis.sendCommand(['MGET', keys.epoch, keys.seq]), 'MGET');
  return { epoch: stringReply(epoch, 'epoch'), head: stringReply(head, 'seq') };
}
