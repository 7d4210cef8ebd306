/**
 * @module store/redis/append-script
 * The one step that makes a write atomic in Redis: a Lua script that
 * checks the epoch and the order's version (compare-and-append: the rules
 * were applied in TypeScript against the instance's projection; Redis only
 * enforces that nothing changed since), claims the idempotency key, takes
 * the next seq, appends the event to the stream under the id `0-<seq>`,
 * and stores the order. Redis runs a script alone, so no other write can
 * come between the check and the append, from any instance.
 */

import { createHash } from 'node:crypto';
import { isOrderChange, productWrites, versionBefore, type Change } from '../../domain/decide.ts';
import { encodeEventUncached, encodeOrder } from '../../protocol/encode.ts';
import { withSeq } from '../with-seq.ts';
import type { Order } from '../../protocol/orders.ts';
import type { IdempotencyClaim, IdempotencyRecord } from '../ports.ts';
import type { CommandSender } from './deadline.ts';
import type { AppliedMark } from './history-check.ts';
import type { RedisKeys } from './keys.ts';
import { arrayReply, integerReply, stringReply, UnexpectedReplyError } from './replies.ts';

/**
 * KEYS: epoch, seq, events, orders, the idempotency key's record (or the
 * seq key again when there is no claim).
 * KEYS[6]: the products hash.
 * ARGV: epoch, order id ('' for a change of the catalog alone), version
 * before, version after (0: delete), event type, order JSON, the event's
 * JSON after its seq, stream length kept, the idempotency record without
 * its seq ('' if no claim), its TTL in ms, the seq the writer's instance
 * has applied and the digest of that entry ('' if unknown), then the
 * number of products the change writes and, for each, its SKU, version
 * before (0: absent), version after (0: deleted) and JSON. Every product
 * is compared like the order: an order's stock reservation commits only
 * if no other write touched those products since it was decided, so two
 * instances never sell the same units; the loser decides again.
 * The applied seq is checked first: a Redis whose head is behind it, or
 * whose entry there is another event, lost history (see history-check.ts),
 * and a seq given out now could be one clients already saw: refused, so
 * nothing is answered that the history does not hold.
 * Written so that no call can fail after the first write: a script that
 * errs half-way keeps what it wrote.
 */
const APPEND_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'epoch'} end
local applied = tonumber(ARGV[11])
if applied > 0 then
  if tonumber(redis.call('GET', KEYS[2]) or '0') < applied then return {'lost'} end
  local at = redis.call('XREVRANGE', KEYS[3], '0-' .. applied, '-', 'COUNT', 1)
  if #at == 1 and (at[1][1] ~= '0-' .. applied or (ARGV[12] ~= '' and redis.sha1hex(at[1][2][2]) ~= ARGV[12])) then return {'lost'} end
end
if ARGV[2] ~= '' then
  local stored = redis.call('HGET', KEYS[4], ARGV[2])
  local version = 0
  if stored then version = tonumber(string.match(stored, '^(%d+):')) end
  if version ~= tonumber(ARGV[3]) then return {'conflict', tonumber(redis.call('GET', KEYS[2]) or '0')} end
end
local products = tonumber(ARGV[13])
for i = 0, products - 1 do
  local stored = redis.call('HGET', KEYS[6], ARGV[14 + i * 4])
  local version = 0
  if stored then version = tonumber(string.match(stored, '^(%d+):')) end
  if version ~= tonumber(ARGV[15 + i * 4]) then return {'conflict', tonumber(redis.call('GET', KEYS[2]) or '0')} end
end
if ARGV[9] ~= '' then
  local record = redis.call('GET', KEYS[5])
  if record then return {'duplicate', record} end
end
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '0-' .. seq, 'e', '{"type":"' .. ARGV[5] .. '","seq":' .. seq .. ARGV[7])
if ARGV[2] ~= '' then
  if ARGV[4] == '0' then
    redis.call('HDEL', KEYS[4], ARGV[2])
  else
    redis.call('HSET', KEYS[4], ARGV[2], ARGV[4] .. ':' .. ARGV[6])
  end
end
for i = 0, products - 1 do
  local after = ARGV[16 + i * 4]
  if after == '0' then
    redis.call('HDEL', KEYS[6], ARGV[14 + i * 4])
  else
    redis.call('HSET', KEYS[6], ARGV[14 + i * 4], after .. ':' .. ARGV[17 + i * 4])
  end
end
if ARGV[9] ~= '' then redis.call('SET', KEYS[5], '{"seq":' .. seq .. ',' .. ARGV[9], 'PX', ARGV[10]) end
return {'committed', seq}
`;

const APPEND_SHA = createHash('sha1').update(APPEND_LUA).digest('hex');

/** What the script answered. */
export type ScriptOutcome =
  | { readonly kind: 'committed'; readonly seq: number }
  | { readonly kind: 'conflict'; readonly headSeq: number }
  | { readonly kind: 'duplicate'; readonly record: IdempotencyRecord }
  /** The epoch key is gone or another: Redis lost the history this instance serves. */
  | { readonly kind: 'epoch' }
  /** Redis is behind, or holds another event at, the seq the writer's instance applied: it lost history. */
  | { readonly kind: 'lost' };

/**
 * Run the append script: by its hash, and with its text when Redis does
 * not have it cached (after a restart, or the first time).
 * @param connection sends the commands (with a deadline)
 * @param keys the history's keys
 * @param epoch the epoch this instance serves
 * @param applied the last event this instance applied
 * @param change what decide() returned
 * @param claim the create's idempotency key
 * @param maxLength entries the stream keeps at least
 */
export async function runAppend(connection: CommandSender, keys: RedisKeys, epoch: string, applied: AppliedMark, change: Change, claim: IdempotencyClaim | undefined, maxLength: number): Promise<ScriptOutcome> {
  const order = isOrderChange(change) ? change.order : undefined;
  // Cached: the order comes back through the tail as the same object (see RedisLog), and goes to the sockets in this JSON.
  const orderJson = order === undefined ? '' : encodeOrder(order);
  const record = claim === undefined ? '' : recordWithoutSeq(claim, orderJson);
  const ttl = claim === undefined ? '0' : String(Math.max(1, claim.expiresAt - Date.now()));
  // The event as encodeEvent writes it, without its head (the script puts the seq in).
  const eventTail = encodeEventUncached(withSeq(change, 0)).slice(`{"type":"${change.type}","seq":0`.length);
  const products = productWrites(change).flatMap(({ sku, before, after, product }) => [sku, String(before), String(after), JSON.stringify(product)]);
  const args = [
    '6', keys.epoch, keys.seq, keys.events, keys.orders, claim === undefined ? keys.seq : keys.idempotency(claim.key), keys.products,
    epoch, order?.id ?? '', isOrderChange(change) ? String(versionBefore(change)) : '0', change.type === 'order.deleted' || order === undefined ? '0' : String(order.version),
    change.type, orderJson, eventTail, String(maxLength), record, ttl,
    String(applied.seq), applied.digest, String(products.length / 4), ...products,
  ];
  let reply: unknown;
  try {
    reply = await connection.sendCommand(['EVALSHA', APPEND_SHA, ...args]);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await connection.sendCommand(['EVAL', APPEND_LUA, ...args]);
  }
  return scriptOutcome(reply);
}

function scriptOutcome(reply: unknown): ScriptOutcome {
  const [kind, value] = arrayReply(reply, 'append script');
  switch (kind) {
    case 'committed':
      return { kind, seq: integerReply(value, 'seq') };
    case 'conflict':
      return { kind, headSeq: integerReply(value, 'seq') };
    case 'duplicate':
      return { kind, record: parseIdempotencyRecord(stringReply(value, 'idempotency record') ?? '') };
    case 'epoch':
    case 'lost':
      return { kind };
    default:
      throw new UnexpectedReplyError(`append script answered ${String(kind)}`);
  }
}

/** The record's JSON after `{"seq":N,` (the script puts the seq in front). */
function recordWithoutSeq(claim: IdempotencyClaim, orderJson: string): string {
  return `"key":${JSON.stringify(claim.key)},"fingerprint":${JSON.stringify(claim.fingerprint)},"expiresAt":${claim.expiresAt},"order":${orderJson}}`;
}

/**
 * An idempotency record as the script stored it.
 * @param json the stored JSON
 */
export function parseIdempotencyRecord(json: string): IdempotencyRecord {
  const record = JSON.parse(json) as { seq: number; key: string; fingerprint: string; expiresAt: number; order: Order };
  if (!Number.isSafeInteger(record.seq) || typeof record.fingerprint !== 'string' || typeof record.order?.id !== 'string') {
    throw new UnexpectedReplyError('an idempotency record is not one this backend wrote');
  }
  return { key: record.key, fingerprint: record.fingerprint, expiresAt: record.expiresAt, order: record.order, seq: record.seq };
}
