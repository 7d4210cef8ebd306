/**
 * @module client/stream/token-expiry
 * When a bearer token expires, read from it without checking it (the
 * server checks; a client only needs to know when to get a fresh one):
 * the `exp` of a JWT. No DOM, no Node module: the page and the CLI share it.
 */

/**
 * The `exp` of a JWT, in milliseconds since 1970; undefined for a token that
 * is not a JWT or has no `exp` (a role token, which does not expire).
 * @param token a bearer token
 */
export function tokenExpiresAt(token: string | undefined): number | undefined {
  const payload = token?.split('.')[1];
  if (payload === undefined || token!.split('.').length !== 3) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    // Not base64url JSON: not a JWT this client can read.
    return undefined;
  }
}
