/**
 * @module store/journal/positions
 * Durable consumers' positions in the data folder: one small file per
 * consumer (`consumer-<name>.position`), replaced atomically (temp file,
 * fsync, rename, fsync of the folder), so a crash leaves the old position
 * or the new one, never half of either. A deleted consumer's file is
 * removed, then the folder fsynced, so a restart does not bring it back.
 */

import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Position } from '../../protocol/messages.ts';
import type { ConsumerPositions } from '../ports.ts';
import { checkConsumerName, decodePosition, encodePosition } from '../positions.ts';
import { syncFolder, writeFileAtomically } from './files.ts';

/** The file a consumer's position is kept in. */
function positionFile(name: string): string {
  return `consumer-${name}.position`;
}

/** Positions as files in the journal's folder. */
export class JournalPositions implements ConsumerPositions {
  readonly #dir: string;

  /** @param dir the data folder (locked by this process) */
  constructor(dir: string) {
    this.#dir = dir;
  }

  async load(name: string): Promise<Position | undefined> {
    checkConsumerName(name);
    const path = join(this.#dir, positionFile(name));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return decodePosition(text, path);
  }

  async save(name: string, position: Position): Promise<void> {
    checkConsumerName(name);
    await writeFileAtomically(this.#dir, positionFile(name), [Buffer.from(encodePosition(position))]);
  }

  async delete(name: string): Promise<void> {
    checkConsumerName(name);
    try {
      await unlink(join(this.#dir, positionFile(name)));
    } catch (error) {
      // Never saved, or removed by a delete whose fsync failed: the fsync below still makes its absence durable.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // The removal is an entry of the folder: durable once the folder is fsynced, as a save's rename is.
    await syncFolder(this.#dir);
  }
}
