/**
 * @module client/ui/share
 * Handing a customer their tracking link: the link itself, a "Copy customer
 * link" button and a QR code a phone can scan (drawn as SVG from
 * client/qr.ts), in the order dialog and in the "order created" notice under
 * the form. Only pages that were given a tracking token show any of it.
 */

import { QR_QUIET_ZONE, QrTooLongError, encodeQr } from '../qr.ts';
import type { Order } from '../../src/protocol.ts';
import { isolate, requireElement, shortId, textElement, textNodes } from './dom.ts';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Drawn size of the QR code, in CSS pixels: large enough for a phone's camera across a desk. */
const QR_DISPLAY_PX = 176;
/** A QR code reads dark on light whatever the page's theme. */
const QR_DARK = '#000000';
const QR_LIGHT = '#ffffff';

/**
 * The absolute customer tracking URL of a token, on this page's origin.
 * @param token a tracking token
 */
export function customerLink(token: string): string {
  return new URL(`/track/${token}`, location.origin).href;
}

/**
 * A QR code of `text` as an SVG image: one path for the dark modules on a light square, quiet zone included.
 * @param doc the document
 * @param text what it encodes (a URL)
 * @param label what a screen reader hears
 */
export function qrSvg(doc: Document, text: string, label: string): SVGSVGElement {
  const code = encodeQr(text);
  const side = code.size + 2 * QR_QUIET_ZONE;
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${side} ${side}`);
  svg.setAttribute('width', String(QR_DISPLAY_PX));
  svg.setAttribute('height', String(QR_DISPLAY_PX));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('class', 'qr');
  const background = doc.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(side));
  background.setAttribute('height', String(side));
  background.setAttribute('fill', QR_LIGHT);
  const path = doc.createElementNS(SVG_NS, 'path');
  const parts: string[] = [];
  code.modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x + QR_QUIET_ZONE} ${y + QR_QUIET_ZONE}h1v1h-1z`);
    }),
  );
  path.setAttribute('d', parts.join(''));
  path.setAttribute('fill', QR_DARK);
  svg.append(background, path);
  return svg;
}

/**
 * The link, its copy button and a QR code behind a disclosure, for one order.
 * The copy button is `data-action="copy-link"` with the link in `data-link`:
 * the page's click delegation copies it.
 * @param doc the document
 * @param order the order
 * @param link its absolute customer link
 */
export function shareBlock(doc: Document, order: Order, link: string): HTMLElement {
  const block = doc.createElement('div');
  block.className = 'share';
  const anchor = textElement(doc, 'a', link, 'share-link');
  anchor.href = link;
  anchor.target = '_blank';
  anchor.rel = 'noopener';
  const copy = textElement(doc, 'button', 'Copy customer link', 'secondary');
  copy.type = 'button';
  copy.dataset.action = 'copy-link';
  copy.dataset.link = link;
  copy.setAttribute('aria-label', `Copy customer link of order ${shortId(order.id)}`);
  block.append(anchor, copy);
  let svg: SVGSVGElement;
  try {
    svg = qrSvg(doc, link, `QR code of the customer link of order ${shortId(order.id)}`);
  } catch (error) {
    // Only an origin of some 180 characters makes a link too long for version 10: then the link alone.
    if (error instanceof QrTooLongError) return block;
    throw error;
  }
  const qr = doc.createElement('details');
  qr.className = 'share-qr';
  qr.append(textElement(doc, 'summary', 'QR code for a phone'), svg);
  block.append(qr);
  return block;
}

/**
 * Copy `text` to the clipboard; `done(false)` where the browser refuses (no permission, not a secure page).
 * @param text what to copy
 * @param done told whether it worked
 */
export function copyText(text: string, done: (copied: boolean) => void): void {
  const clipboard = navigator.clipboard as Clipboard | undefined;
  if (clipboard === undefined) return done(false);
  clipboard.writeText(text).then(
    () => done(true),
    () => done(false),
  );
}

/** How long a copy button says "Copied", in milliseconds. */
const COPIED_MS = 2000;

/**
 * Say "Copied" on the button for a moment (its accessible name stays; the page announces the copy).
 * @param button a copy button
 */
export function showCopied(button: HTMLButtonElement): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  button.dataset.label = label;
  button.textContent = 'Copied ✓';
  clearTimeout(Number(button.dataset.copiedTimer));
  button.dataset.copiedTimer = String(setTimeout(() => {
    button.textContent = label;
  }, COPIED_MS));
}

/** The notice under the form after one's own create. */
export interface CreatedNotice {
  /**
   * Say which order was made; with its customer link when the page has one.
   * @param order the new order
   * @param link its absolute customer link
   */
  show(order: Order, link: string | undefined): void;
}

/**
 * Build the notice over `#created`.
 * @param doc the document
 * @param detailHref the hash that opens an order
 */
export function createCreatedNotice(doc: Document, detailHref: (id: string) => string): CreatedNotice {
  const root = requireElement<HTMLElement>(doc, '#created');
  const text = requireElement<HTMLElement>(root, '#created-text');
  const share = requireElement<HTMLElement>(root, '#created-share');
  requireElement<HTMLButtonElement>(root, '#created-dismiss').addEventListener('click', () => {
    root.hidden = true;
    doc.querySelector<HTMLInputElement>('#customer-name')?.focus();
  });
  return {
    show(order, link) {
      const open = textElement(doc, 'a', `order ${shortId(order.id)}`);
      open.href = detailHref(order.id);
      text.replaceChildren('Created ', open, ...textNodes(doc, ` for ${isolate(order.customerName)}.`));
      share.replaceChildren(...(link === undefined ? [] : [shareBlock(doc, order, link)]));
      root.dataset.orderId = order.id;
      root.hidden = false;
    },
  };
}
