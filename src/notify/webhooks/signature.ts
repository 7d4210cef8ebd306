/**
 * @module notify/webhooks/signature
 * Standard Webhooks 1.0 signing: `whsec_` secrets, and the
 * `webhook-signature` header (`v1,` + base64 HMAC-SHA256 of
 * `id.timestamp.body`, keyed with the secret's base64-decoded bytes).
 */

import { createHmac, randomBytes } from 'node:crypto';

/** What every secret starts with. */
export const SECRET_PREFIX = 'whsec_';

/** Random bytes in a new secret (Standard Webhooks asks for 24 to 64). */
const SECRET_BYTES = 32;

/** How many characters of a secret `GET` shows (the prefix and a few more). */
const SHOWN_CHARACTERS = SECRET_PREFIX.length + 4;

/** A new random secret, `whsec_` + base64. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The start of a secret, enough to tell two apart; never the whole.
 * @param secret a whsec_ secret
 */
export function secretHint(secret: string): string {
  return `${secret.slice(0, SHOWN_CHARACTERS)}…`;
}

/**
 * The `webhook-signature` header: one `v1,` entry per secret, space-separated.
 * @param secrets the secrets that sign (the current one, and the previous one during a rotation)
 * @param id the `webhook-id`
 * @param timestamp the `webhook-timestamp`, in seconds
 * @param body the exact body sent
 */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  const signed = `${id}.${timestamp}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')).update(signed).digest('base64')}`)
    .join(' ');
}
