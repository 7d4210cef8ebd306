/**
 * @module store/journal/damage
 * Telling a tail torn by a crash from corruption. A crash can only leave
 * unanswered writes unfinished, at the end of what was written, with the
 * space allocated ahead (zeros) or the end of the file after them. So a bad
 * record is a torn tail only when it looks unfinished (it runs past the end
 * of the file, or it is zeros, or it ends in zeros) and nothing valid of
 * this history follows it: one flipped or zeroed byte in the middle of the
 * journal, with answered writes after it, is corruption and is refused.
 */

import { crc32 } from 'node:zlib';
import { MAX_RECORD_BYTES, RECORD_HEADER_BYTES, asJournalEntry } from './records.ts';

/** Bytes that open and close every record's JSON. */
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** What a bad record is: a tail a crash tore (safe to cut), or corruption (refused). */
export type Damage = { readonly kind: 'torn' } | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Judge the bad record at `offset`.
 * @param bytes the whole file
 * @param offset where the bad record starts
 * @param read what reading it found: cut short by the end of the file, or complete but wrong (and why)
 * @param lastSeq the last seq read from this file before it (its first seq minus one if none)
 */
export function judgeDamage(bytes: Buffer, offset: number, read: { kind: 'torn' } | { kind: 'corrupt'; reason: string }, lastSeq: number): Damage {
  const why = read.kind === 'torn' ? 'a record cut short' : bytes.readUInt32BE(offset) === 0 ? 'zeros where a record should start' : read.reason;
  const end = dataEnd(bytes);
  if (!looksUnfinished(bytes, offset, read.kind)) return { kind: 'corrupt', reason: `${why}, with the whole record there (corruption, not a crash)` };
  const content = intactContent(bytes, offset, end);
  if (content !== undefined) return { kind: 'corrupt', reason: `a record length of ${bytes.readUInt32BE(offset)} bytes where its intact content is ${content} bytes long (corruption, not a crash)` };
  const later = nextValidEntry(bytes, offset + 1, end, lastSeq);
  if (later !== undefined) return { kind: 'corrupt', reason: `${why}, followed by valid records (seq ${later.seq} at byte ${later.offset}): not a tail torn by a crash` };
  return { kind: 'torn' };
}

/**
 * Whether the record at `offset` looks like a write that did not finish:
 * cut short by the end of the file, zeros where its header should be, or
 * zeros where its end should be. A record whose only fault is a zeroed last
 * byte (its checksum holds with the `}` every record ends in) was finished.
 */
function looksUnfinished(bytes: Buffer, offset: number, kind: 'torn' | 'corrupt'): boolean {
  if (kind === 'torn') return true;
  const length = bytes.readUInt32BE(offset);
  if (length === 0) return true;
  const end = offset + RECORD_HEADER_BYTES + length;
  if (length > MAX_RECORD_BYTES || end > bytes.length || bytes[end - 1] !== 0) return false;
  if (end - 2 >= offset + RECORD_HEADER_BYTES && bytes[end - 2] !== 0) {
    const mended = Buffer.from(bytes.subarray(offset + RECORD_HEADER_BYTES, end));
    mended[mended.length - 1] = CLOSE_BRACE;
    if (crc32(mended) === bytes.readUInt32BE(offset + 4)) return false;
  }
  return true;
}

/**
 * Where the bytes that are not zero end: a crash's torn tail is followed
 * only by zeros (space allocated ahead) or the end of the file.
 * @param bytes the whole file
 */
export function dataEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/**
 * The length of the content of the record at `offset` if its checksum
 * holds for some other length than the one its header says: a corrupted
 * length in front of an intact record.
 */
function intactContent(bytes: Buffer, offset: number, end: number): number | undefined {
  const start = offset + RECORD_HEADER_BYTES;
  if (start > end) return undefined;
  const stored = bytes.readUInt32BE(offset + 4);
  if (stored === 0 && bytes.readUInt32BE(offset) === 0) return undefined;
  const limit = Math.min(end, start + MAX_RECORD_BYTES);
  let crc = 0;
  let hashed = start;
  for (let at = start + 1; at <= limit; at++) {
    if (bytes[at - 1] !== CLOSE_BRACE) continue;
    crc = crc32(bytes.subarray(hashed, at), crc);
    hashed = at;
    if (crc === stored && parses(bytes.subarray(start, at))) return at - start;
  }
  return undefined;
}

/**
 * The first journal entry after `from` (at any byte offset) that reads back
 * whole and carries a seq after `lastSeq`: writes that may have been answered.
 * @param bytes the whole file
 * @param from where to start looking
 * @param end where the bytes that are not zero end
 * @param lastSeq the last seq read before the damage
 */
export function nextValidEntry(bytes: Buffer, from: number, end: number, lastSeq: number): { offset: number; seq: number } | undefined {
  for (let at = from; at + RECORD_HEADER_BYTES + 2 <= end; at++) {
    const length = bytes.readUInt32BE(at);
    const start = at + RECORD_HEADER_BYTES;
    // Cheap checks first: every record's JSON opens with `{` and closes with `}`.
    if (length < 2 || length > MAX_RECORD_BYTES || start + length > end) continue;
    if (bytes[start] !== OPEN_BRACE || bytes[start + length - 1] !== CLOSE_BRACE) continue;
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== bytes.readUInt32BE(at + 4)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      continue;
    }
    const entry = asJournalEntry(parsed);
    if (entry !== undefined && entry.event.seq > lastSeq) return { offset: at, seq: entry.event.seq };
  }
  return undefined;
}

function parses(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
