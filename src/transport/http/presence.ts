/**
 * @module transport/http/presence
 * `GET /api/orders/ID/presence`: how many watch an order right now, by
 * role, on this instance (see transport/ws/presence.ts for what watching
 * is). Tracking principals may not ask: customers learn nothing of others.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { orderNotFound, type PresenceAnswer } from '../../protocol.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { sendJson, sendProblem } from './io.ts';

/** `GET /api/orders/ID/presence`. */
export function getPresence(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  if (ctx.orders.get(id) === undefined) return sendProblem(res, orderNotFound(id));
  const answer: PresenceAnswer = { orderId: id, watching: ctx.presence.counts(id), scope: 'instance' };
  sendJson(res, 200, answer);
}
