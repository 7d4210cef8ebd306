/**
 * @module protocol/json
 * JSON from outside: parsing it without throwing, and the small shape
 * predicates both sides of the wire build their validators from.
 */

import { ProtocolError, fail, ok, type Result } from './errors.ts';

/** A parsed JSON object whose members are not yet checked. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Whether `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is a safe integer >= 0. */
export function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * `JSON.parse` as a {@link Result}.
 * @param text untrusted JSON text
 */
export function parseJson(text: string): Result<unknown> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    // The parser's message names the offending position, which helps curl users.
    return fail(new ProtocolError('LO_ERR_BAD_JSON', `Malformed JSON: ${(e as Error).message}`));
  }
}
