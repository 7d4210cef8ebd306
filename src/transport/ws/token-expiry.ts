/**
 * @module transport/ws/token-expiry
 * A socket opened with an identity provider's token lives as long as the
 * token: at its expiry (plus the clock leeway) the socket is closed with
 * 4001 unless a `refresh` brought a later one.
 */

import { CLOSE_CODES } from '../../protocol.ts';
import type { Session } from './session-state.ts';

/** The longest a timer can wait (setTimeout's limit, about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The close reason sent with {@link CLOSE_CODES.tokenExpired}. */
export const TOKEN_EXPIRED_REASON = 'token expired';

/**
 * (Re)start the wait for the session's token to expire; nothing for a
 * credential that does not expire.
 * @param session the connection, with the principal it goes on as
 */
export function armExpiry(session: Session): void {
  disarmExpiry(session);
  const principal = session.principal;
  if (principal.kind !== 'user') return;
  const wait = principal.expiresAt - Date.now();
  session.expiryTimer = setTimeout(() => {
    if (Date.now() < principal.expiresAt) return armExpiry(session);
    session.socket.close(CLOSE_CODES.tokenExpired, TOKEN_EXPIRED_REASON);
  }, Math.min(Math.max(0, wait), MAX_TIMER_MS));
  // Shutdown closes every socket; an expiry must not hold the process up.
  session.expiryTimer.unref();
}

/**
 * Stop waiting (the socket closed).
 * @param session the connection
 */
export function disarmExpiry(session: Session): void {
  if (session.expiryTimer !== undefined) clearTimeout(session.expiryTimer);
  session.expiryTimer = undefined;
}
