/**
 * @module transport/http/emails
 * The email endpoints: what was emailed about an order (operators), and the
 * one-click unsubscribe link of RFC 8058: a GET shows a page that asks to
 * confirm (link scanners follow GETs), only a POST unsubscribes, and the
 * POST mail providers send (`List-Unsubscribe=One-Click`, as a form or as
 * multipart/form-data) is answered 200.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError, orderNotFound } from '../../protocol.ts';
import { escapeHtml } from '../../notify/email/compose.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { sendJson, sendProblem, sendText } from './io.ts';

/** The form body of a one-click unsubscribe (RFC 8058 section 3.1), and of our confirm page's form. */
export const ONE_CLICK_BODY = 'List-Unsubscribe=One-Click';

/** A one-click body is one short form field: anything longer is not one. */
const MAX_UNSUBSCRIBE_BODY = 1024;

const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

/** `GET /api/orders/ID/emails`: each email about the order, sent or given up, oldest first. */
export async function getOrderEmails(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  if (ctx.orders.get(id) === undefined) return sendProblem(res, orderNotFound(id));
  const emails = ctx.emails === undefined ? [] : await ctx.emails.emailsFor(id);
  sendJson(res, 200, { orderId: id, enabled: ctx.emails?.enabled === true, emails });
}

/** `GET /api/email/unsubscribe/TOKEN`: the page that asks to confirm; it changes nothing. */
export function showUnsubscribe(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id: token }: RouteMatch): void {
  if (ctx.emails?.checkUnsubscribe(token) === undefined) return sendProblem(res, unknownLink());
  const action = `/api/email/unsubscribe/${encodeURIComponent(token)}`;
  sendText(res, 200, page('Stop emails about this order?', `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Stop emails about this order</button></form>`), HTML_HEADERS);
}

/** `POST /api/email/unsubscribe/TOKEN` with `List-Unsubscribe=One-Click`: no more emails about the order; no confirmation email. */
export async function unsubscribe(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id: token }: RouteMatch): Promise<void> {
  const body = await readSmallBody(req);
  if (body === undefined) return sendProblem(res, new ProtocolError('LO_ERR_PAYLOAD_TOO_LARGE', `A one-click unsubscribe body is "${ONE_CLICK_BODY}"`));
  if (!isOneClick(req.headers['content-type'], body)) {
    return sendProblem(res, new ProtocolError('LO_ERR_INVALID_FIELD', `Send the form body "${ONE_CLICK_BODY}" (RFC 8058)`, { errors: [{ field: 'List-Unsubscribe', message: 'must be One-Click' }] }));
  }
  const orderId = ctx.emails === undefined ? undefined : await ctx.emails.unsubscribe(token);
  if (orderId === undefined) return sendProblem(res, unknownLink());
  sendText(res, 200, page('Unsubscribed', '<p>You will get no more emails about this order.</p>'), HTML_HEADERS);
}

/**
 * Whether a body says `List-Unsubscribe=One-Click`: as a form
 * (`application/x-www-form-urlencoded`) or, as RFC 8058 recommends mail
 * providers send it, as `multipart/form-data`.
 */
export function isOneClick(contentType: string | undefined, body: string): boolean {
  const boundary = /^\s*multipart\/form-data\s*;.*\bboundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  if (boundary === null) return new URLSearchParams(body).getAll('List-Unsubscribe').includes('One-Click');
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  return body.split(delimiter).some((part) => {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) return false;
    const headers = part.slice(0, split);
    return /content-disposition:\s*form-data;[^\r\n]*\bname="List-Unsubscribe"/i.test(headers) && part.slice(split + 4).replace(/\r\n$/, '') === 'One-Click';
  });
}

function unknownLink(): ProtocolError {
  return new ProtocolError('LO_ERR_NOT_FOUND', 'This unsubscribe link is not one of ours');
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The request body as text, or `undefined` past {@link MAX_UNSUBSCRIBE_BODY} bytes. */
function readSmallBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UNSUBSCRIBE_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
