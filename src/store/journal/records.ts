/**
 * @module store/journal/records
 * How the journal's files hold data: a sequence of records, each its length,
 * a CRC-32 of its bytes, and the bytes (JSON). A record cut short by a
 * crash, or with a bit flipped, does not pass its length and checksum
 * checks, so it is never mistaken for data.
 */

import { crc32 } from 'node:zlib';
import type { Product } from '../../domain/catalog.ts';
import type { LogEvent } from '../../domain/events.ts';
import { isLogEvent, isOrder, isProduct } from '../../protocol/decode.ts';
import { isObject } from '../../protocol/json.ts';
import type { Order } from '../../protocol/orders.ts';
import type { IdempotencyClaim, IdempotencyRecord } from '../ports.ts';

/** Bytes before each record's payload: its length, then its CRC-32, both big-endian. */
export const RECORD_HEADER_BYTES = 8;

/** The largest payload a record may have; a length past it is corruption, not a record. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Format version written in every file's first record. */
export const FORMAT_VERSION = 1;

/**
 * Frame a payload as a record.
 * @param payload the record's JSON text
 */
export function encodeRecord(payload: string): Buffer {
  const length = Buffer.byteLength(payload);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length);
  record.write(payload, RECORD_HEADER_BYTES, 'utf8');
  record.writeUInt32BE(length, 0);
  record.writeUInt32BE(crc32(record.subarray(RECORD_HEADER_BYTES)), 4);
  return record;
}

/**
 * Frame many payloads as consecutive records in one buffer: one allocation
 * for a whole batch, and each payload encoded once, into its place.
 * @param payloads the records' JSON texts
 */
export function encodeRecords(payloads: readonly string[]): Buffer {
  let total = 0;
  const lengths = payloads.map((payload) => {
    const length = Buffer.byteLength(payload);
    total += RECORD_HEADER_BYTES + length;
    return length;
  });
  const records = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < payloads.length; i++) {
    const length = lengths[i]!;
    const start = offset + RECORD_HEADER_BYTES;
    records.write(payloads[i]!, start, length, 'utf8');
    records.writeUInt32BE(length, offset);
    records.writeUInt32BE(crc32(records.subarray(start, start + length)), offset + 4);
    offset = start + length;
  }
  return records;
}

/** One record read back, or why the bytes at an offset are not one. */
export type ReadRecord =
  | { readonly kind: 'record'; readonly payload: unknown; readonly next: number }
  /** The bytes end before the record does: a write that a crash cut short. */
  | { readonly kind: 'torn' }
  /** The record is all there but wrong: a bad length, checksum or JSON. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Read the record starting at `offset` of `bytes`.
 * @param bytes a file's contents (or the part read so far)
 * @param offset where the record starts
 */
export function readRecord(bytes: Buffer, offset: number): ReadRecord {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return { kind: 'torn' };
  const length = bytes.readUInt32BE(offset);
  if (length > MAX_RECORD_BYTES) return { kind: 'corrupt', reason: `a record length of ${length} bytes` };
  const start = offset + RECORD_HEADER_BYTES;
  if (bytes.length - start < length) return { kind: 'torn' };
  const payload = bytes.subarray(start, start + length);
  if (crc32(payload) !== bytes.readUInt32BE(offset + 4)) return { kind: 'corrupt', reason: 'a checksum that does not match' };
  try {
    return { kind: 'record', payload: JSON.parse(payload.toString('utf8')) as unknown, next: start + length };
  } catch {
    return { kind: 'corrupt', reason: 'a record that is not JSON' };
  }
}

/** A segment's first record: which history it belongs to, and the seq of its first event. */
export interface SegmentHeader {
  readonly journal: 'liveorders segment';
  readonly version: number;
  readonly epoch: string;
  readonly firstSeq: number;
}

/** A snapshot's first record: the history and the seq it was taken at, and what follows. */
export interface SnapshotHeader {
  readonly journal: 'liveorders snapshot';
  readonly version: number;
  readonly epoch: string;
  readonly seq: number;
  readonly orders: number;
  readonly keys: number;
  /** Products of the catalog (absent: none). */
  readonly products?: number;
  readonly takenAt: string;
}

/** A snapshot's last record: written last, so a snapshot without it is incomplete. */
export interface SnapshotEnd {
  readonly end: true;
  readonly records: number;
}

/**
 * A journal entry: an event, and the idempotency key its create claimed.
 * The event's order is written by `encodeEvent` (the same JSON the sockets get).
 * @param encodedEvent the event's JSON
 * @param claim the create's idempotency key, if any
 */
export function journalEntry(encodedEvent: string, claim: IdempotencyClaim | undefined): string {
  return claim === undefined ? `{"e":${encodedEvent}}` : `{"e":${encodedEvent},"k":${JSON.stringify(claim)}}`;
}

/** A journal entry read back. */
export interface JournalEntry {
  readonly event: LogEvent;
  readonly claim?: IdempotencyClaim;
}

/**
 * Check a journal entry read back from disk.
 * @param payload a record's parsed JSON
 */
export function asJournalEntry(payload: unknown): JournalEntry | undefined {
  if (!isObject(payload) || !isLogEvent(payload.e)) return undefined;
  if (payload.k === undefined) return { event: payload.e };
  return isClaim(payload.k) ? { event: payload.e, claim: payload.k } : undefined;
}

/**
 * Check a snapshot's order record (`{"o": order}`), product record (`{"p": product}`) or key record (`{"k": record}`).
 * @param payload a record's parsed JSON
 */
export function asSnapshotItem(payload: unknown): { order: Order } | { key: IdempotencyRecord } | { product: Product } | undefined {
  if (!isObject(payload)) return undefined;
  if (isOrder(payload.o)) return { order: payload.o };
  if (isProduct(payload.p)) return { product: payload.p };
  const key = payload.k;
  if (isClaim(key) && isObject(key) && isOrder(key.order) && typeof key.seq === 'number') return { key: key as unknown as IdempotencyRecord };
  return undefined;
}

function isClaim(value: unknown): value is IdempotencyClaim {
  return isObject(value) && typeof value.key === 'string' && typeof value.fingerprint === 'string' && typeof value.expiresAt === 'number';
}
