/**
 * @module store/journal/segments
 * Journal segment files: starting one (its header durable, and its name in
 * the folder, before any event goes in), reopening the last one after a
 * restart, allocating space ahead of its writes, and reading events back
 * for a resume older than the memory holds.
 */

import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEvent } from '../../domain/events.ts';
import { segmentName, syncFolder, writeAll } from './files.ts';
import { FORMAT_VERSION, asJournalEntry, encodeRecord, readRecord, type SegmentHeader } from './records.ts';

/** Zeros written to extend a segment, a chunk at a time. */
const ZEROS = Buffer.alloc(1024 * 1024);

/** A segment file open for appends. */
export interface Segment {
  readonly name: string;
  readonly firstSeq: number;
  readonly handle: FileHandle;
  /** Bytes durable in it (appends go on from here). */
  bytes: number;
  /** The file's size: the zeros beyond `bytes` are space allocated ahead. */
  allocated: number;
}

/** Open the last segment to append after its last record. */
export async function reopenSegment(dir: string, last: { name: string; firstSeq: number; bytes: number }): Promise<Segment> {
  const handle = await open(join(dir, last.name), 'r+');
  const { size } = await handle.stat();
  return { name: last.name, firstSeq: last.firstSeq, handle, bytes: last.bytes, allocated: size };
}

/**
 * Allocate zeros ahead of a segment's writes, enough for `needed` more
 * bytes and up to `ahead` more. Best effort: on a file system too full for
 * it, the segment grows with its writes instead (and those fail if there
 * is no room for them either).
 */
export async function extend(segment: Segment, needed: number, ahead: number): Promise<void> {
  const target = segment.bytes + needed + ahead;
  try {
    while (segment.allocated < target) {
      const chunk = Math.min(ZEROS.length, target - segment.allocated);
      await writeAll(segment.handle, ZEROS.subarray(0, chunk), segment.allocated);
      segment.allocated += chunk;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
    segment.allocated = Math.max(segment.bytes, (await segment.handle.stat()).size);
  }
}

/**
 * Start a segment whose first event will be `firstSeq`: its header is
 * durable, and so is its name in the folder, before any event goes in.
 * @param reuse an empty segment file left by a crash right after it was created, to write the header into
 */
export async function newSegment(dir: string, epoch: string, firstSeq: number, preallocateBytes: number, reuse?: string): Promise<Segment> {
  const name = reuse ?? segmentName(firstSeq);
  const header: SegmentHeader = { journal: 'liveorders segment', version: FORMAT_VERSION, epoch, firstSeq };
  const bytes = encodeRecord(JSON.stringify(header));
  const handle = await open(join(dir, name), reuse === undefined ? 'wx' : 'r+');
  const segment: Segment = { name, firstSeq, handle, bytes: 0, allocated: 0 };
  try {
    await extend(segment, bytes.length, preallocateBytes);
    await writeAll(handle, bytes, 0);
    await handle.datasync();
    await syncFolder(dir);
  } catch (error) {
    await handle.close();
    // A segment this call created and could not start (a full disk) would sit empty in the middle of the journal.
    if (reuse === undefined) await unlink(join(dir, name)).catch(() => undefined);
    throw error;
  }
  segment.bytes = bytes.length;
  return segment;
}

/**
 * Cut a segment that appends no longer go to at the end of its records: a
 * closed segment then ends at its last valid record, not in space
 * allocated ahead. Its records are all durable, and the cut is made
 * durable too.
 * @param segment the segment, its handle still open
 */
export async function closeSegment(segment: Segment): Promise<void> {
  try {
    await segment.handle.truncate(segment.bytes);
    await segment.handle.datasync();
    segment.allocated = segment.bytes;
  } finally {
    await segment.handle.close().catch(() => undefined);
  }
}

/**
 * The events after `after` read back from segment files, at most `limit`;
 * 'reset' when they do not reach back to `after + 1` (a compaction removed
 * a file meanwhile) or do not read back.
 * @param dir the data folder
 * @param segments the older segments and the current one, oldest first, each with where its durable records end (only those are read)
 * @param after the last seq the reader has
 * @param limit the most events to return
 */
export async function readSegmentEvents(dir: string, segments: readonly { name: string; bytes: number }[], after: number, limit: number): Promise<readonly LogEvent[] | 'reset'> {
  const events: LogEvent[] = [];
  for (const file of segments) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, file.name));
    } catch {
      return 'reset'; // removed by a compaction meanwhile
    }
    const end = Math.min(file.bytes, bytes.length);
    let offset = 0;
    let header = true;
    while (offset < end && events.length < limit) {
      const read = readRecord(bytes.subarray(0, end), offset);
      if (read.kind !== 'record') return 'reset';
      if (!header) {
        const entry = asJournalEntry(read.payload);
        if (entry === undefined) return 'reset';
        if (entry.event.seq > after) events.push(entry.event);
      }
      header = false;
      offset = read.next;
    }
    if (events.length === limit) break;
  }
  return events.length > 0 && events[0]!.seq === after + 1 ? events : 'reset';
}
