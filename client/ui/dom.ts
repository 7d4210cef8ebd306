/**
 * @module client/ui/dom
 * Small DOM and formatting helpers shared by the parts of the page. User text
 * is always set with `textContent`, never as HTML.
 */

import { withoutBidiControls, type Order, type OrderStatus } from '../../src/protocol.ts';

/** FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: the plain-text form of `<bdi>`. */
const FSI = '\u2068';
const PDI = '\u2069';

/**
 * The element matching `selector`; throws at start-up when the page lacks it.
 * @param root where to look
 * @param selector a CSS selector
 */
export function requireElement<T extends Element>(root: ParentNode, selector: string): T {
  const element = root.querySelector<T>(selector);
  if (element === null) throw new Error(`page is missing ${selector}`);
  return element;
}

/**
 * A new element holding `text` as text.
 * @param doc the document
 * @param tag the tag name
 * @param text its text
 * @param className optional class
 */
export function textElement<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, text: string, className?: string): HTMLElementTagNameMap[K] {
  const element = doc.createElement(tag);
  element.append(...textNodes(doc, text));
  if (className !== undefined) element.className = className;
  return element;
}

/**
 * User text (a name) to put inside a sentence: without the bidi controls
 * that older data may hold, between FSI and PDI, so a right-to-left name, or
 * one that tries, cannot reorder the words around it. Attributes (labels)
 * keep the marks; {@link textNodes} turns them into `<bdi>` elements.
 * @param text user text
 */
export function isolate(text: string): string {
  return `${FSI}${withoutBidiControls(text)}${PDI}`;
}

/**
 * `text` as DOM nodes, always as text: each part {@link isolate}d becomes a
 * `<bdi>` element, the rest text nodes (so `textContent` is the sentence
 * without the marks).
 * @param doc the document
 * @param text a sentence, maybe with isolated parts
 */
export function textNodes(doc: Document, text: string): (string | HTMLElement)[] {
  if (!text.includes(FSI)) return [text];
  const nodes: (string | HTMLElement)[] = [];
  for (const [i, part] of text.split(FSI).entries()) {
    const end = part.indexOf(PDI);
    if (i === 0 || end === -1) {
      if (part !== '') nodes.push(part);
      continue;
    }
    const bdi = doc.createElement('bdi');
    bdi.textContent = part.slice(0, end);
    nodes.push(bdi);
    if (end + 1 < part.length) nodes.push(part.slice(end + 1).replaceAll(PDI, ''));
  }
  return nodes;
}

/**
 * A name shown on its own (an element with `dir="auto"` takes its direction
 * from it): without the bidi controls older data may hold.
 * @param text user text
 */
export function shownName(text: string): string {
  return withoutBidiControls(text);
}

/**
 * A `<time>` showing `iso` in the reader's locale.
 * @param doc the document
 * @param iso an ISO 8601 time
 * @param style how much of it to show
 */
export function timeElement(doc: Document, iso: string, style: 'full' | 'time' = 'full'): HTMLTimeElement {
  const date = new Date(iso);
  const text = style === 'time' ? date.toLocaleTimeString() : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const time = textElement(doc, 'time', text);
  time.dateTime = iso;
  time.title = date.toLocaleString();
  return time;
}

/**
 * The short form of an order id: its last 8 characters (a UUID v7 starts with the time, which orders share).
 * @param id the full id
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

/**
 * A price or total with two decimals and the reader's separators.
 * @param value an amount
 */
export function money(value: number): string {
  return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/**
 * A count with the reader's thousands separators.
 * @param value a count
 */
export function count(value: number): string {
  return value.toLocaleString();
}

/**
 * One order line as text: `2 × monitor · 199.99`.
 * @param item the line
 */
export function itemText(item: Order['items'][number]): string {
  const price = item.price === undefined ? '' : ` · ${money(item.price)}`;
  return `${item.quantity} × ${isolate(item.name)}${price}`;
}

/**
 * An order's lines as the page lists them: its free-form items, then its products from the catalog at their unit price.
 * @param order the order
 */
export function orderLineTexts(order: Order): string[] {
  return [...order.items.map(itemText), ...(order.lines ?? []).map((line) => itemText({ name: line.name, quantity: line.quantity, price: line.unitPriceCents / 100 }))];
}

/**
 * Show `status` on a badge element.
 * @param badge the element
 * @param status the status
 */
export function setBadge(badge: HTMLElement, status: OrderStatus): void {
  badge.className = `badge status-${status}`;
  badge.textContent = status;
}
