/**
 * @module transport/http/webhooks
 * The webhook endpoints' REST handlers (`/api/webhooks...`): checked
 * input, problem+json on refusal, and the secret shown whole only in the
 * answers to a create and a rotation.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEPT_DELIVERIES } from '../../notify/webhooks/delivery-merge.ts';
import { parseEndpointInput, parseEndpointPatch } from '../../notify/webhooks/input.ts';
import type { WebhookService } from '../../notify/webhooks/service.ts';
import { ProtocolError, type Result } from '../../protocol.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { readJsonBody, sendEmpty, sendJson, sendProblem } from './io.ts';

/** Deliveries listed when `limit` is not given. */
const DEFAULT_DELIVERIES_LIMIT = 50;

/** The delivery id in `/api/webhooks/ID/deliveries/DELIVERY_ID/retry`. */
const DELIVERY_PATH = /^\/api\/webhooks\/[^/]+\/deliveries\/([^/]+)\/retry$/;

function service(ctx: ApiContext, res: ServerResponse): WebhookService | undefined {
  if (ctx.webhooks === undefined) sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'Webhooks are not available on this server'));
  return ctx.webhooks;
}

function answer<T>(res: ServerResponse, result: Result<T>, status: number): void {
  if (result.ok) sendJson(res, status, result.value);
  else sendProblem(res, result.error);
}

/** `GET /api/webhooks`. */
export async function listWebhooks(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  // With Redis: what other instances changed until now, not as of the last periodic re-read.
  await webhooks.refresh();
  sendJson(res, 200, webhooks.list());
}

/** `POST /api/webhooks`. */
export async function createWebhook(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  if (!body.ok) return sendProblem(res, body.error);
  const input = parseEndpointInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  const created = await webhooks.create(input.value);
  if (created.ok) res.setHeader('Location', `/api/webhooks/${created.value.id}`);
  answer(res, created, 201);
}

/** `GET /api/webhooks/ID`. */
export async function getWebhook(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  await webhooks.refresh();
  answer(res, webhooks.get(id), 200);
}

/** `PATCH /api/webhooks/ID`. */
export async function updateWebhook(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  if (!body.ok) return sendProblem(res, body.error);
  const patch = parseEndpointPatch(body.value);
  if (!patch.ok) return sendProblem(res, patch.error);
  answer(res, await webhooks.update(id, patch.value), 200);
}

/** `DELETE /api/webhooks/ID`. */
export async function deleteWebhook(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  const removed = await webhooks.remove(id);
  if (removed.ok) sendEmpty(res, 204);
  else sendProblem(res, removed.error);
}

/** `POST /api/webhooks/ID/rotate-secret`. */
export async function rotateWebhookSecret(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  req.resume();
  const webhooks = service(ctx, res);
  if (webhooks !== undefined) answer(res, await webhooks.rotateSecret(id), 200);
}

/** `POST /api/webhooks/ID/test`. */
export async function testWebhook(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  req.resume();
  const webhooks = service(ctx, res);
  if (webhooks !== undefined) answer(res, await webhooks.sendTest(id), 200);
}

/** `GET /api/webhooks/ID/deliveries?limit=N`. */
export async function listWebhookDeliveries(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id, url }: RouteMatch): Promise<void> {
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  const raw = url.searchParams.get('limit');
  const limit = raw === null ? DEFAULT_DELIVERIES_LIMIT : /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= KEPT_DELIVERIES)) {
    const message = `must be a whole number from 1 to ${KEPT_DELIVERIES}`;
    return sendProblem(res, new ProtocolError('LO_ERR_INVALID_FIELD', `limit ${message}`, { errors: [{ field: 'limit', message }] }));
  }
  await webhooks.refresh();
  answer(res, webhooks.deliveries(id, limit), 200);
}

/** `POST /api/webhooks/ID/deliveries/DELIVERY_ID/retry`. */
export async function retryWebhookDelivery(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id, url }: RouteMatch): Promise<void> {
  req.resume();
  const webhooks = service(ctx, res);
  if (webhooks === undefined) return;
  const deliveryId = DELIVERY_PATH.exec(url.pathname)?.[1] ?? '';
  answer(res, await webhooks.retry(id, decoded(deliveryId)), 200);
}

/** A path segment decoded, or as it is when its percent-encoding is malformed. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // URIError: not valid percent-encoding; no delivery has such an id.
    return segment;
  }
}
