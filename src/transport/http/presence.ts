/**
 * @module transport/http/presence
 * `GET /api/orders/ID/presence`: how many watch an order right now, by
 * role: on this instance, or with Redis on every live instance (see
 * transport/ws/presence.ts for what watching is, shared-presence.ts for
 * how instances share it). Tracking principals may not ask: customers
 * learn nothing of others.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { orderNotFound, type PresenceAnswer } from '../../protocol.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { sendJson, sendProblem } from './io.ts';

/** `GET /api/orders/ID/presence`. */
export async function getPresence(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  // An order created through another instance a moment ago: catch up before saying it is unknown.
  if (ctx.orders.get(id) === undefined && ctx.catchUp !== undefined) await ctx.catchUp();
  if (ctx.orders.get(id) === undefined) return sendProblem(res, orderNotFound(id));
  const { watching, scope } = await ctx.presence.read(id);
  const answer: PresenceAnswer = { orderId: id, watching, scope };
  sendJson(res, 200, answer);
}
