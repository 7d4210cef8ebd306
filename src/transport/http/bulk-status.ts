/**
 * @module transport/http/bulk-status
 * `POST /api/orders/status`: one status for many orders. Each order is its
 * own command through the one write path (its own decision, its own event),
 * and the answer lists each order's outcome in the order asked. An
 * `Idempotency-Key` makes a retry safe: while this instance remembers the
 * key (bulk-replays.ts), the first answer is sent again and nothing is
 * changed twice.
 */

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ERROR_CODES,
  ProtocolError,
  encodeOrder,
  isValidIdempotencyKey,
  parseBulkStatusInput,
  toWireError,
  type BulkStatusInput,
  type BulkStatusResult,
} from '../../protocol.ts';
import type { Principal } from '../../security/auth.ts';
import { scopedIdempotencyKey } from '../create-order.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { CLOSE_AFTER_RESPONSE, readJsonBody, sendEncodedJson, sendProblem } from './io.ts';

/** Changes committed at once: enough for a journal to group their flushes, few enough not to flood the backend. */
const BULK_CONCURRENCY = 32;

/** `POST /api/orders/status`: 200 with one result per order, in the order given. */
export async function changeStatuses(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): Promise<void> {
  const rawKey = req.headers['idempotency-key'];
  if (typeof rawKey === 'string' && !isValidIdempotencyKey(rawKey)) {
    req.resume();
    const message = 'must be 1 to 255 visible ASCII characters';
    return sendProblem(res, new ProtocolError('LO_ERR_INVALID_FIELD', `Header Idempotency-Key ${message}`, { errors: [{ field: 'header.Idempotency-Key', message }] }));
  }
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendProblem(res, body.error, body.error.code === 'LO_ERR_PAYLOAD_TOO_LARGE' ? CLOSE_AFTER_RESPONSE : {});
  const input = parseBulkStatusInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  if (typeof rawKey !== 'string') return sendEncodedJson(res, 200, await runBulk(ctx, input.value));
  const remembered = ctx.bulkReplays.answer(replayKey(principal, rawKey), fingerprintOf(input.value), () => runBulk(ctx, input.value));
  if (remembered === undefined) {
    return sendProblem(res, new ProtocolError('LO_ERR_IDEMPOTENCY_MISMATCH', 'This idempotency key was already used with a different request'));
  }
  sendEncodedJson(res, 200, await remembered.json, remembered.replayed ? { 'Idempotent-Replayed': 'true' } : {});
}

/** Keys of bulk requests live apart from keys of creates: the same key in both means two requests. */
function replayKey(principal: Principal, key: string): string {
  return `bulk\n${scopedIdempotencyKey(principal, key)}`;
}

/** Equal for equal requests (the parser keeps the ids in the order given, the answer follows it). */
function fingerprintOf(input: BulkStatusInput): string {
  return createHash('sha256').update(JSON.stringify([input.status, input.orderIds, [...(input.expectedVersions ?? [])]])).digest('base64url');
}

/** Each order through the write path, a few at a time; the answer's JSON, results in the order asked. */
async function runBulk(ctx: ApiContext, input: BulkStatusInput): Promise<string> {
  const results: BulkStatusResult[] = new Array<BulkStatusResult>(input.orderIds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < input.orderIds.length) {
      const index = next++;
      results[index] = await changeOne(ctx, input.orderIds[index]!, input);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, input.orderIds.length) }, worker));
  const changed = results.filter((r) => r.status === 200).length;
  return encodeAnswer(input, results, changed);
}

async function changeOne(ctx: ApiContext, id: string, input: BulkStatusInput): Promise<BulkStatusResult> {
  let error: ProtocolError;
  try {
    const result = await ctx.commands.changeStatus(id, input.status, input.expectedVersions?.get(id));
    if (result.ok) return { id, status: 200, order: result.value.order };
    error = result.error;
  } catch (thrown) {
    // Storage could not take this one (503): the others' outcomes still stand and are reported.
    error = ctx.onCommandFailure?.(thrown) ?? toWireError(thrown);
    // Anything else is a bug: the request fails with 500, and the server logs it.
    if (error.code === 'LO_ERR_INTERNAL') throw thrown;
  }
  return { id, status: ERROR_CODES[error.code].status, error: { code: error.code, message: error.message } };
}

/** The answer, with each order encoded as everywhere else (cached encodings are reused). */
function encodeAnswer(input: BulkStatusInput, results: readonly BulkStatusResult[], changed: number): string {
  const parts = results.map(({ id, status, order, error }) =>
    order !== undefined ? `{"id":${JSON.stringify(id)},"status":${status},"order":${encodeOrder(order)}}` : JSON.stringify({ id, status, error }),
  );
  return `{"status":${JSON.stringify(input.status)},"changed":${changed},"failed":${results.length - changed},"results":[${parts.join(',')}]}`;
}
