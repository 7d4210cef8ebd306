/**
 * @module store/redis/positions
 * Durable consumers' positions in Redis: one key per consumer, next to the
 * history it is a position in, so every instance sharing the history sees
 * the same one.
 */

import type { Position } from '../../protocol/messages.ts';
import type { ConsumerPositions } from '../ports.ts';
import { checkConsumerName, decodePosition, encodePosition } from '../positions.ts';
import type { RedisKeys } from './keys.ts';
import type { CommandSender } from './deadline.ts';
import { stringReply } from './replies.ts';

/** Positions as keys in Redis. */
export class RedisPositions implements ConsumerPositions {
  readonly #commands: CommandSender;
  readonly #keys: RedisKeys;

  /**
   * @param commands the command connection, within its deadline
   * @param keys the history's keys
   */
  constructor(commands: CommandSender, keys: RedisKeys) {
    this.#commands = commands;
    this.#keys = keys;
  }

  async load(name: string): Promise<Position | undefined> {
    checkConsumerName(name);
    const key = this.#keys.consumer(name);
    const text = stringReply(await this.#commands.sendCommand(['GET', key]), 'consumer position');
    return text === undefined ? undefined : decodePosition(text, `Redis key ${key}`);
  }

  async save(name: string, position: Position): Promise<void> {
    checkConsumerName(name);
    await this.#commands.sendCommand(['SET', this.#keys.consumer(name), encodePosition(position)]);
  }

  async delete(name: string): Promise<void> {
    checkConsumerName(name);
    // DEL of a key that is not there answers 0: deleting a position never saved is not an error.
    await this.#commands.sendCommand(['DEL', this.#keys.consumer(name)]);
  }
}
