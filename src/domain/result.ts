/**
 * @module domain/result
 * `Result`: a value or an expected failure, returned rather than thrown.
 */

/** A value or an expected failure. */
export type Result<T, E> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** Wrap a success. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

/** Wrap a failure. */
export function fail<E>(error: E): Result<never, E> {
  return { ok: false, error };
}
