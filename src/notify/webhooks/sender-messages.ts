/**
 * @module notify/webhooks/sender-messages
 * What the serving thread and the sender thread say to each other, and
 * the sender thread's priority.
 */

import type { AttemptRequest, AttemptResult } from './send.ts';

/**
 * The sender thread's nice value (0 is the server's, 19 the lowest): the
 * lowest, so that webhooks use the time requests leave over. A core that
 * is not saturated gives it everything it asks for whatever its nice
 * value; a saturated one serves requests and lets backlogs wait in their
 * saved positions.
 */
export const SENDER_THREAD_NICE = 19;

/** From the serving thread. */
export type SenderRequest =
  /** Make an attempt (with the pool's kept connections, or a connection of its own). */
  | { readonly type: 'send'; readonly id: number; readonly request: Omit<AttemptRequest, 'signal'>; readonly pool?: string }
  /** Cut an attempt short (the endpoint stopped). */
  | { readonly type: 'cancel'; readonly id: number }
  /** Close a pool's kept connections. */
  | { readonly type: 'close-pool'; readonly pool: string };

/** From the sender thread: how an attempt ended. */
export interface SenderReply {
  readonly id: number;
  readonly result: AttemptResult;
}
