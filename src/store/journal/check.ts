/**
 * @module store/journal/check
 * `npm run journal -- check|repair`: what a start would find in a data
 * folder, said before anything changes. `check` changes nothing; `repair`
 * (with the folder locked, so no instance writes meanwhile) prints the
 * tails torn by a crash it is about to cut, then cuts them, and nothing
 * else: a folder a start refuses is left exactly as it is.
 */

import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../support/logger.ts';
import { IDENTITY_FILE, StorageStartError, folderIdentity, listFolder } from './files.ts';
import { LOCK_FILE, lockFolder } from './lock.ts';
import { loadJournal, type LoadedJournal, type TornTail } from './load.ts';

/** What {@link checkFolder} does. */
export type CheckMode = 'check' | 'repair';

/** Exit codes: the folder starts as it is (or after cutting torn tails), or a start refuses it. */
export const CHECK_EXIT = { ok: 0, refused: 1 } as const;

/** The report, line by line, and the exit code. */
export interface CheckResult {
  readonly lines: readonly string[];
  readonly exitCode: number;
}

/**
 * Check (or repair) the journal in `dir`.
 * @param dir the data folder
 * @param mode `check` reports; `repair` also cuts torn tails, after saying so
 */
export async function checkFolder(dir: string, mode: CheckMode): Promise<CheckResult> {
  const lines: string[] = [];
  if (!(await exists(dir))) return { lines: [`${dir}: no such folder; a start creates it`], exitCode: CHECK_EXIT.ok };
  const listing = await listFolder(dir);
  if (!(await exists(join(dir, IDENTITY_FILE)))) {
    const files = listing.segments.length + listing.snapshots.length;
    if (files === 0) return { lines: [`${dir}: no journal yet; a start begins a new history`], exitCode: CHECK_EXIT.ok };
    return { lines: [`${join(dir, IDENTITY_FILE)} is missing while the folder holds ${files} journal files: a start refuses; restore it from a backup copy of the folder (it holds the epoch and the tracking key). Nothing was changed`], exitCode: CHECK_EXIT.refused };
  }
  if (mode === 'check' && (await exists(join(dir, LOCK_FILE)))) lines.push(`note: ${LOCK_FILE} is present; if an instance runs on this folder, this is a report of one moment`);
  const lock = mode === 'repair' ? await lockFolder(dir, { logger: createLogger({ level: 'warn' }) }) : undefined;
  try {
    const { identity } = await folderIdentity(dir);
    let loaded: LoadedJournal;
    try {
      loaded = await loadJournal(dir, { epoch: identity.epoch, historyCapacity: 1, cut: false });
    } catch (error) {
      if (!(error instanceof StorageStartError)) throw error;
      lines.push(`a start refuses this folder: ${error.message}`);
      if (mode === 'repair') lines.push('repair cuts only tails torn by a crash; this is not one, so nothing was cut');
      return { lines, exitCode: CHECK_EXIT.refused };
    }
    lines.push(...(await describe(dir, identity.epoch, loaded)));
    if (loaded.torn.length === 0) {
      lines.push(mode === 'repair' ? 'nothing to repair: no torn tail; nothing was changed' : 'a start reads every file as it is');
      return { lines, exitCode: CHECK_EXIT.ok };
    }
    if (mode === 'check') {
      for (const tail of loaded.torn) lines.push(`would cut ${tail.file} at byte ${tail.offset} (${tail.bytes} bytes): ${TORN}`);
      lines.push('a start cuts these itself; `npm run journal -- repair` cuts them now. Nothing was changed');
      return { lines, exitCode: CHECK_EXIT.ok };
    }
    for (const tail of loaded.torn) lines.push(`cutting ${tail.file} at byte ${tail.offset} (${tail.bytes} bytes): ${TORN}`);
    await loadJournal(dir, { epoch: identity.epoch, historyCapacity: 1 });
    lines.push(`cut ${loaded.torn.length} torn ${loaded.torn.length === 1 ? 'tail' : 'tails'}; seq ${loaded.seq}, ${loaded.orders.size} orders`);
    return { lines, exitCode: CHECK_EXIT.ok };
  } finally {
    await lock?.release();
  }
}

/** Why a torn tail may be cut. */
const TORN = 'a write a crash left unfinished, with nothing valid after it (never answered)';

async function describe(dir: string, epoch: string, loaded: LoadedJournal): Promise<string[]> {
  const lines = [`${dir}: epoch ${epoch}, seq ${loaded.seq}, ${loaded.orders.size} orders`];
  if (loaded.snapshot !== undefined) lines.push(`snapshot ${loaded.snapshot.name}: seq ${loaded.snapshot.seq}, ${loaded.snapshot.bytes} bytes`);
  const torn = new Map<string, TornTail>(loaded.torn.map((t) => [t.file, t]));
  for (const segment of loaded.segments) {
    const size = (await stat(join(dir, segment.name))).size;
    const tail = torn.has(segment.name) ? 'a torn tail' : size > segment.bytes ? `${size - segment.bytes} bytes of zeros (space allocated ahead)` : 'nothing';
    lines.push(`segment ${segment.name}: from seq ${segment.firstSeq}, records end at byte ${segment.bytes} of ${size}, then ${tail}`);
  }
  if (loaded.stale.length > 0) lines.push(`not needed (the next compaction removes them): ${loaded.stale.join(', ')}`);
  return lines;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
