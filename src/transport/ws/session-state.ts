/**
 * @module transport/ws/session-state
 * What the server keeps per connected client: its socket, who it is, and
 * the snapshot and commands it has in flight. Read and written by session.ts
 * (its messages) and sync.ts (its snapshots and resumes).
 */

import type { View, WatcherKind } from '../../protocol.ts';
import type { Principal } from '../../security/auth.ts';
import type { SessionSocket } from './client-socket.ts';

/** One connected client: its socket, who it is, and where it connects from. */
export interface Session {
  readonly socket: SessionSocket;
  /** Who it is; replaced when a `refresh` brings a later token of the same user. */
  principal: Principal;
  readonly address?: string;
  /** Set while a snapshot is queued but not yet written: the next one waits for it. */
  snapshotInFlight?: boolean;
  /** The latest view asked for while a snapshot was in flight; a newer `subscribe` replaces it. */
  pendingView?: { readonly view: View; readonly limit: number; readonly reset?: boolean };
  /** The view the client watches now, and its snapshot size: what it is sent again when the history is replaced. */
  watching?: { readonly view: View; readonly limit: number };
  /** Set while a command is being committed: later messages wait for its answer. */
  busy?: boolean;
  /** Messages that came while busy, oldest first. */
  waiting?: string[];
  /** Closes the socket when its identity provider token expires (token-expiry.ts). */
  expiryTimer?: ReturnType<typeof setTimeout> | undefined;
  /** The order this socket counts as watching (presence.ts): its tracked order, or the detail a board has open. */
  watchedOrder?: { readonly orderId: string; readonly kind: WatcherKind } | undefined;
}
