/**
 * @module store/journal/files
 * The journal's data folder: its identity (epoch and tracking
 * key), file names, and writing a file so that it is either all there
 * under its name or not there at all (temp file, fsync, rename, fsync of
 * the folder).
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Refusing to start: a message for the operator, naming what to do. */
export class StorageStartError extends Error {
  override readonly name = 'StorageStartError';
}

/** Epoch and tracking key, made once when the folder is new. */
export const IDENTITY_FILE = 'identity.json';

const SEGMENT = /^journal-(\d{16})\.log$/;
const SNAPSHOT = /^snapshot-(\d{16})\.snap$/;

/**
 * A segment's file name.
 * @param firstSeq the seq of its first event
 */
export function segmentName(firstSeq: number): string {
  return `journal-${String(firstSeq).padStart(16, '0')}.log`;
}

/**
 * A snapshot's file name.
 * @param seq the seq it was taken at
 */
export function snapshotName(seq: number): string {
  return `snapshot-${String(seq).padStart(16, '0')}.snap`;
}

/** The journal's files in a folder, oldest first. */
export interface FolderListing {
  readonly segments: readonly { readonly name: string; readonly firstSeq: number }[];
  readonly snapshots: readonly { readonly name: string; readonly seq: number }[];
  /** Temp files a crash left behind (a snapshot being written): never read, safe to remove. */
  readonly temporary: readonly string[];
}

/**
 * List the journal's files in `dir`.
 * @param dir the data folder
 */
export async function listFolder(dir: string): Promise<FolderListing> {
  const segments: { name: string; firstSeq: number }[] = [];
  const snapshots: { name: string; seq: number }[] = [];
  const temporary: string[] = [];
  for (const name of await readdir(dir)) {
    const segment = SEGMENT.exec(name);
    const snapshot = SNAPSHOT.exec(name);
    if (segment !== null) segments.push({ name, firstSeq: Number(segment[1]) });
    else if (snapshot !== null) snapshots.push({ name, seq: Number(snapshot[1]) });
    else if (name.endsWith('.tmp')) temporary.push(name);
  }
  segments.sort((a, b) => a.firstSeq - b.firstSeq);
  snapshots.sort((a, b) => a.seq - b.seq);
  return { segments, snapshots, temporary };
}

/**
 * Create the data folder if needed and check that this process can write
 * there; otherwise refuse with a message that says what to do.
 * @param dir the data folder
 */
export async function prepareFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}.tmp`);
    const handle = await open(probe, 'w');
    await handle.close();
    await unlink(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new StorageStartError(
      `cannot use the data folder ${dir} (${code}: ${(error as Error).message}); set DATA_DIR to a folder this user can create and write, or STORAGE=memory to keep nothing on disk`,
    );
  }
}

/** What a data folder is: the epoch of its history and its tracking key. */
export interface FolderIdentity {
  readonly epoch: string;
  readonly trackingKey: Buffer;
}

/**
 * The folder's identity, made (and written durably) the first time.
 * @param dir the data folder
 */
export async function folderIdentity(dir: string): Promise<{ identity: FolderIdentity; created: boolean }> {
  const path = join(dir, IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    const identity = { epoch: randomUUID(), trackingKey: randomBytes(16) };
    await writeFileAtomically(dir, IDENTITY_FILE, [Buffer.from(`${JSON.stringify({ epoch: identity.epoch, trackingKey: identity.trackingKey.toString('base64'), createdAt: new Date().toISOString() })}\n`)], 0o600);
    return { identity, created: true };
  }
  try {
    const parsed = JSON.parse(text) as { epoch?: unknown; trackingKey?: unknown };
    const key = typeof parsed.trackingKey === 'string' ? Buffer.from(parsed.trackingKey, 'base64') : Buffer.alloc(0);
    if (typeof parsed.epoch === 'string' && parsed.epoch !== '' && key.length === 16) return { identity: { epoch: parsed.epoch, trackingKey: key }, created: false };
  } catch {
    // Refused below: never overwrite what could not be read.
  }
  throw new StorageStartError(`${path} does not read back as this service's identity file; restore it from a backup (it holds the epoch and the tracking key)`);
}

/**
 * Write a file so that it exists under `name` whole or not at all: to a
 * temp file, fsync, rename over `name`, fsync the folder.
 * @param dir the folder
 * @param name the file's name
 * @param chunks its contents (written one after another)
 * @param mode its permissions
 */
export async function writeFileAtomically(dir: string, name: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>, mode = 0o644): Promise<number> {
  const temp = join(dir, `${name}.${process.pid}.tmp`);
  const handle = await open(temp, 'w', mode);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      await writeAll(handle, chunk);
      bytes += chunk.length;
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, join(dir, name));
  await syncFolder(dir);
  return bytes;
}

/**
 * Write all of `data` (a write may take part of it).
 * @param handle an open file
 * @param data the bytes
 * @param position where, or undefined for the file's current position
 */
export async function writeAll(handle: FileHandle, data: Buffer, position?: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position === undefined ? null : position + written);
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes were written'), { code: 'EIO' });
    written += bytesWritten;
  }
}

/**
 * Make a folder's entries (created, renamed, removed files) durable.
 * @param dir the folder
 */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
