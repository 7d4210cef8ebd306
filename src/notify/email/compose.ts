/**
 * @module notify/email/compose
 * One customer email from one order event: plain-words subject, a text and
 * an HTML part (every value escaped), the tracking link, List-Unsubscribe
 * with one-click (RFC 8058), a Message-ID derived from the order id and
 * version, and Auto-Submitted. Pure: no I/O.
 */

import type { Order, OrderStatus } from '../../protocol.ts';

/** Subjects in plain words, per status. */
const SUBJECTS: Readonly<Record<OrderStatus, string>> = {
  pending: 'We have received your order',
  processing: 'We are preparing your order',
  shipped: 'Your order is on its way',
  delivered: 'Your order has been delivered',
  cancelled: 'Your order has been cancelled',
};

/** One sentence per status, for the body. */
const SENTENCES: Readonly<Record<OrderStatus, string>> = {
  pending: 'Thank you: your order is in and we will start on it soon.',
  processing: 'We are preparing your order.',
  shipped: 'Your order has left us and is on its way to you.',
  delivered: 'Your order has been delivered. We hope you enjoy it.',
  cancelled: 'Your order has been cancelled. If this is unexpected, reply to this email.',
};

/** What an email needs besides the order. */
export interface ComposeContext {
  /** Shown in the subject and signature; may be empty. */
  readonly shopName: string;
  /** From header as configured. */
  readonly from: string;
  /** The bare sender address: Message-ID domain and the mailto of List-Unsubscribe. */
  readonly fromAddress: string;
  /** The customer's tracking page. */
  readonly trackingUrl: string;
  /** The one-click unsubscribe link (GET: a confirm page; POST: unsubscribes). */
  readonly unsubscribeUrl: string;
}

/** An email ready for the transport: every header value is made here from checked parts. */
export interface ComposedEmail {
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** With angle brackets. */
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The Message-ID of the email about an order at a version: the same after a
 * crash and a resend, so the repeat is recognisable.
 * @param order the order at the version the email is about
 * @param fromAddress the sender's address (its domain is the ID's right side)
 */
export function messageIdFor(order: Pick<Order, 'id' | 'version'>, fromAddress: string): string {
  return `<order-${order.id}.v${order.version}@${fromAddress.slice(fromAddress.lastIndexOf('@') + 1)}>`;
}

/**
 * Build the email about `order` as it is now.
 * @param order the order at the event (it has a `customerEmail`)
 * @param ctx links and sender
 */
export function composeEmail(order: Order & { readonly customerEmail: string }, ctx: ComposeContext): ComposedEmail {
  const shop = ctx.shopName === '' ? '' : `${ctx.shopName}: `;
  const subject = withoutLineBreaks(`${shop}${SUBJECTS[order.status]}`);
  const items = [
    ...order.items.map((item) => ({ line: `${item.quantity} x ${item.name}`, price: item.price === undefined ? '' : money(item.price * item.quantity) })),
    // Catalog lines carry their unit price in whole cents, as it was when the order was made.
    ...(order.lines ?? []).map((line) => ({ line: `${line.quantity} x ${line.name}`, price: money((line.unitPriceCents * line.quantity) / 100) })),
  ];
  const total = order.total === undefined ? undefined : money(order.total);
  const text = [
    `Hello ${order.customerName},`,
    '',
    SENTENCES[order.status],
    '',
    `Status: ${order.status}`,
    `Order: ${order.id}`,
    '',
    ...items.map((item) => `  ${item.line}${item.price === '' ? '' : `  ${item.price}`}`),
    ...(total === undefined ? [] : [`Total: ${total}`]),
    '',
    `Follow your order: ${ctx.trackingUrl}`,
    '',
    ctx.shopName === '' ? '' : ctx.shopName,
    `No more emails about this order: ${ctx.unsubscribeUrl}`,
  ].join('\n');
  const rows = items.map((item) => `<tr><td>${escapeHtml(item.line)}</td><td style="text-align:right">${escapeHtml(item.price)}</td></tr>`).join('');
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<p>Hello ${escapeHtml(order.customerName)},</p>` +
    `<p>${escapeHtml(SENTENCES[order.status])}</p>` +
    `<p>Status: <strong>${escapeHtml(order.status)}</strong><br>Order: ${escapeHtml(order.id)}</p>` +
    `<table>${rows}${total === undefined ? '' : `<tr><th style="text-align:left">Total</th><td style="text-align:right">${escapeHtml(total)}</td></tr>`}</table>` +
    `<p><a href="${escapeHtml(ctx.trackingUrl)}">Follow your order</a></p>` +
    (ctx.shopName === '' ? '' : `<p>${escapeHtml(ctx.shopName)}</p>`) +
    `<p style="font-size:small"><a href="${escapeHtml(ctx.unsubscribeUrl)}">No more emails about this order</a></p>` +
    `</body></html>`;
  return {
    to: order.customerEmail,
    from: ctx.from,
    subject,
    text,
    html,
    messageId: messageIdFor(order, ctx.fromAddress),
    headers: {
      'List-Unsubscribe': `<mailto:${ctx.fromAddress}?subject=unsubscribe%20${order.id}>, <${ctx.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
    },
  };
}

/**
 * Text made safe to place in HTML text or a quoted attribute.
 * @param text any text
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A header value on one line, whatever it was given (names and shop names are checked already; this is the last guard). */
function withoutLineBreaks(text: string): string {
  return text.replace(/[\r\n\u0000-\u001f\u007f]+/g, ' ');
}

function money(amount: number): string {
  return amount.toFixed(2);
}
