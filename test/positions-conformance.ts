/**
 * Consumer positions deleted, in the storage conformance suite: a deleted
 * position loads as never saved, on every backend; nothing of it is left
 * where the backend keeps positions (a file in the journal's folder, a key
 * in Redis); the delete survives a restart and is seen by another
 * instance; deleting a name never saved resolves; other names are kept.
 */

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { Storage } from '../src/store.ts';
import type { Backend } from './storage-conformance.ts';

/** A position as the backends keep it. */
function at(storage: Storage, seq: number): { seq: number; epoch: string } {
  return { seq, epoch: storage.log.epoch };
}

/** Assert the backend keeps nothing under `name`: no file in its folder, no key beside its history. */
async function assertNothingKept(storage: Storage, name: string): Promise<void> {
  if (storage.dataDir !== undefined) assert.deepEqual(readdirSync(storage.dataDir).filter((file) => file.includes(name)), [], `no file for ${name} in the data folder`);
  if (storage.sideKeys !== undefined) assert.equal(Number(await storage.sideKeys.send(['EXISTS', storage.sideKeys.key(`consumer:${name}`)])), 0, `no key for ${name}`);
}

/**
 * The position-delete cases, against one backend.
 * @param name the backend's name
 * @param backend how to reopen it, or open another instance on it
 * @param open opens a fresh storage the suite closes afterwards
 */
export function describePositions(name: string, backend: Backend, open: () => Promise<Storage>): void {
  /** Storages opened here by a restart or as another instance (the suite closes those it opened). */
  const extra: Storage[] = [];
  after(async () => {
    for (const storage of extra) {
      await storage.log.close();
      await backend.dispose?.(storage);
    }
  });

  describe(`consumer positions deleted: ${name}`, () => {
    test('a deleted position loads as never saved and nothing of it is kept; other names stay; deleting again or a name never saved resolves', async () => {
      const storage = await open();
      await storage.positions.save('gone-consumer', at(storage, 3));
      await storage.positions.save('kept-consumer', at(storage, 5));
      assert.deepEqual(await storage.positions.load('gone-consumer'), at(storage, 3));
      await storage.positions.delete('gone-consumer');
      assert.equal(await storage.positions.load('gone-consumer'), undefined);
      await assertNothingKept(storage, 'gone-consumer');
      assert.deepEqual(await storage.positions.load('kept-consumer'), at(storage, 5), 'another consumer keeps its position');
      await storage.positions.delete('gone-consumer');
      await storage.positions.delete('never-saved');
      assert.equal(await storage.positions.load('never-saved'), undefined);
      // Saved again after a delete: a fresh position, as for a new consumer.
      await storage.positions.save('gone-consumer', at(storage, 7));
      assert.deepEqual(await storage.positions.load('gone-consumer'), at(storage, 7));
    });

    test('a name that could not be a file name or a key is refused, and nothing is deleted', async () => {
      const storage = await open();
      await storage.positions.save('kept-consumer', at(storage, 2));
      for (const bad of ['', '../kept-consumer', 'a/b', 'x'.repeat(65), 'kept consumer']) await assert.rejects(storage.positions.delete(bad), RangeError, JSON.stringify(bad));
      assert.deepEqual(await storage.positions.load('kept-consumer'), at(storage, 2));
    });

    const { reopen, openAnother } = backend;
    if (reopen !== undefined) test('a delete survives a restart', async () => {
      const storage = await open();
      await storage.positions.save('gone-consumer', at(storage, 4));
      await storage.positions.save('kept-consumer', at(storage, 6));
      await storage.positions.delete('gone-consumer');
      const again = await reopen(storage);
      extra.push(again);
      assert.equal(await again.positions.load('gone-consumer'), undefined, 'the deleted position does not come back');
      await assertNothingKept(again, 'gone-consumer');
      assert.deepEqual(await again.positions.load('kept-consumer'), at(storage, 6));
    });

    if (openAnother !== undefined) test('a delete made by one instance is seen by another', async () => {
      const storage = await open();
      const other = await openAnother(storage);
      extra.push(other);
      await storage.positions.save('gone-consumer', at(storage, 8));
      assert.deepEqual(await other.positions.load('gone-consumer'), at(storage, 8));
      await other.positions.delete('gone-consumer');
      assert.equal(await storage.positions.load('gone-consumer'), undefined);
    });
  });
}
