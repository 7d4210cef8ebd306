/**
 * @module store/redis/deadline
 * Our own deadline on a Redis command. node-redis drops a command's timeout
 * once the command is written to the socket, so a Redis that stops
 * answering without closing the connection (SIGSTOP, a network that
 * black-holes packets) would hold a request for as long as the stall
 * lasts. Every command on a request's path goes through {@link withDeadline}.
 */

/** How long a command may wait for its answer when `REDIS_COMMAND_TIMEOUT_MS` is not set, in milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/** Redis did not answer in time: a write sent may or may not have been executed. */
export class RedisDeadlineError extends Error {
  override readonly name = 'RedisDeadlineError';
  readonly code = 'ETIMEDOUT';
}

/** What sends one command: a connection's `sendCommand`, possibly wrapped. */
export interface CommandSender {
  sendCommand(args: readonly string[]): Promise<unknown>;
}

/**
 * The command's answer, or a {@link RedisDeadlineError} after `ms`.
 * @param reply the command in flight
 * @param ms the deadline
 * @param what names the command, for the error
 */
export function withDeadline<T>(reply: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisDeadlineError(`Redis did not answer ${what} within ${ms} ms`)), ms);
  });
  // The command may still settle after the deadline: its late rejection is nobody's to handle.
  reply.catch(() => undefined);
  return Promise.race([reply, late]).finally(() => clearTimeout(timer));
}
