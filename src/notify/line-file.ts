/**
 * @module notify/line-file
 * A file of lines that a notifier keeps in DATA_DIR beside the journal (the
 * email outbox, the unsubscribe list): read whole once at start, then grown
 * one line at a time, each append synced to disk before it resolves.
 */

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';

/**
 * The lines of a file, or none when it does not exist yet. A line torn by a
 * crash is the caller's to recognise and skip.
 * @param path the file
 */
export function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Replace a file with `text`, whole or not at all: a temp file, synced, then
 * renamed over it.
 * @param path the file
 * @param text its new content
 */
export function replaceFile(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text);
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** A file grown by lines, one append at a time, each synced before it resolves. */
export class SyncedLines {
  readonly #path: string;
  #writing: Promise<void> = Promise.resolve();

  /** @param path the file (created by the first append) */
  constructor(path: string) {
    this.#path = path;
  }

  /** Resolves once every append made so far is on disk (or rejects as the last one did). */
  get settled(): Promise<void> {
    return this.#writing;
  }

  /**
   * Append one line. It starts with a newline too, so a line a crash tore
   * before it stays a line of its own.
   * @param line the line, without its newline
   */
  append(line: string): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      await appendFile(this.#path, `\n${line}\n`);
      const handle = await open(this.#path, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    return this.#writing;
  }
}
