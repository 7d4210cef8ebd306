/**
 * @module store/positions
 * What every backend's {@link ConsumerPositions} shares: the check of a
 * consumer's name, the encoding of a saved position, and the memory
 * backend's own (positions that last as long as the process).
 */

import type { Position } from '../protocol/messages.ts';
import { CONSUMER_NAME, type ConsumerPositions } from './ports.ts';

/**
 * Refuse a consumer name that could not be a file name or a key.
 * @param name the consumer's name
 * @throws {RangeError} when it is not letters, digits and `._-`
 */
export function checkConsumerName(name: string): void {
  if (!CONSUMER_NAME.test(name)) throw new RangeError(`a consumer name is 1 to 64 letters, digits and ._- (got ${JSON.stringify(name)})`);
}

/**
 * A saved position as text.
 * @param position the position
 */
export function encodePosition(position: Position): string {
  return JSON.stringify({ seq: position.seq, epoch: position.epoch });
}

/**
 * A saved position read back.
 * @param text what {@link encodePosition} wrote
 * @param where what it was read from, for the error
 * @throws {Error} with code `LO_ERR_POSITION` when it is not a position
 */
export function decodePosition(text: string, where: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const candidate = parsed as { seq?: unknown; epoch?: unknown } | undefined;
  if (typeof candidate !== 'object' || candidate === null || !Number.isSafeInteger(candidate.seq) || (candidate.seq as number) < 0 || typeof candidate.epoch !== 'string') {
    throw Object.assign(new Error(`${where} does not hold a consumer position`), { code: 'LO_ERR_POSITION' });
  }
  return { seq: candidate.seq as number, epoch: candidate.epoch };
}

/** Positions kept in this process: the memory backend's, which lives no longer. */
export class MemoryPositions implements ConsumerPositions {
  readonly #saved = new Map<string, Position>();

  load(name: string): Promise<Position | undefined> {
    checkConsumerName(name);
    return Promise.resolve(this.#saved.get(name));
  }

  save(name: string, position: Position): Promise<void> {
    checkConsumerName(name);
    this.#saved.set(name, { seq: position.seq, epoch: position.epoch });
    return Promise.resolve();
  }

  // Async so that a refused name is a rejection, as with the other backends.
  async delete(name: string): Promise<void> {
    checkConsumerName(name);
    this.#saved.delete(name);
  }
}
