/**
 * The operator's day on the board, in Chromium: "Cancel order" asks first (by
 * mouse and keyboard, on a card and in the dialog), the customer link with
 * its copy button and a QR code that scans (operators only), the phone's
 * "New order" button, live numbers taken from the stream, the compact board
 * kept in the URL, the empty item row, links to orders that are not there,
 * and the "Export CSV" link of the current filter.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeQr, QR_QUIET_ZONE } from '../client/qr.ts';
import { STATS_POLL_MS } from '../client/stats.ts';
import type { Order } from '../src/protocol.ts';
import { request, startServer } from './helpers.ts';
import { DESKTOP, PHONE, assertFitsViewport, assertNoSeriousAxeViolations, screenshot, usePageHarness } from './page-harness.ts';
import { requirement } from './requirements.ts';

const h = usePageHarness();
const scanner = requirement('zbarimg', ['--version'], 'a QR scanner to read the page\'s QR code back (apt-get install zbar-tools)');
/** Errors a page logs while its server is unreachable, as it should. */
const OUTAGE_ERRORS = [/WebSocket connection to .* failed/, /Failed to load resource/];
const NARROW = { width: 360, height: 740 } as const;
const CLIPBOARD = { permissions: ['clipboard-read', 'clipboard-write'] };

function card(page: Page, id: string) {
  return page.locator(`#orders .card[data-order-id="${id}"]`);
}

/** Text of the focused element, and the order (card or dialog) it belongs to. */
function focused(page: Page): Promise<{ text: string | undefined; label: string | null | undefined; order: string | undefined; inDialog: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      text: el?.textContent ?? undefined,
      label: el?.getAttribute('aria-label'),
      order: el?.closest<HTMLElement>('[data-order-id]')?.dataset.orderId,
      inDialog: el?.closest('#detail') !== null,
    };
  });
}

async function serverOrder(id: string): Promise<Order> {
  const res = await request(h.srv.base, 'GET', `/api/orders/${id}`);
  assert.equal(res.status, 200);
  return res.body as Order;
}

async function setStatus(id: string, status: string, base = h.srv.base, headers: Record<string, string> = {}): Promise<void> {
  const res = await request(base, 'PUT', `/api/orders/${id}/status`, { status }, headers);
  assert.equal(res.status, 200, res.text);
}

/** The dark modules an SVG drawn by client/ui/share.ts holds, as `row,column` (quiet zone taken off). */
async function svgModules(page: Page, selector: string): Promise<Set<string>> {
  const d = await page.locator(selector).evaluate((svg) => svg.querySelector('path')?.getAttribute('d') ?? '');
  const modules = new Set<string>();
  for (const m of d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) modules.add(`${Number(m[2]) - QR_QUIET_ZONE},${Number(m[1]) - QR_QUIET_ZONE}`);
  return modules;
}

function expectedModules(text: string): Set<string> {
  const modules = new Set<string>();
  encodeQr(text).modules.forEach((row, r) => row.forEach((dark, c) => dark && modules.add(`${r},${c}`)));
  return modules;
}

/** What zbarimg reads in a PNG. */
function scan(png: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-qr-'));
  try {
    const file = join(dir, 'qr.png');
    writeFileSync(file, png);
    return execFileSync('zbarimg', ['-q', '--raw', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().replace(/\n$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Record every toast the page shows, from its first moment. */
async function recordToasts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const toasts: string[] = [];
    (window as unknown as { toastLog: string[] }).toastLog = toasts;
    document.addEventListener('DOMContentLoaded', () => {
      const holder = document.querySelector('#toasts');
      if (holder === null) return;
      new MutationObserver((records) => {
        for (const r of records) for (const node of r.addedNodes) toasts.push(node.textContent ?? '');
      }).observe(holder, { childList: true });
    });
  });
}

describe('cancelling asks first', () => {
  test('on a card, by mouse: "Keep order" takes the question back and sends nothing; "Yes, cancel order" sends', async () => {
    const page = await h.openBoard();
    const order = await h.createOrder('Almost Cancelled');
    const row = card(page, order.id);
    await row.waitFor();
    let patches = 0;
    page.on('request', (r) => (patches += r.method() === 'PATCH' || r.method() === 'PUT' ? 1 : 0));

    await row.getByRole('button', { name: /^Cancel order: order/ }).click();
    const keep = row.getByRole('button', { name: 'Keep order' });
    await keep.waitFor();
    assert.equal(await row.getByRole('group').getAttribute('aria-label'), `Confirm: cancel order ${order.id.slice(-8)} for \u2068Almost Cancelled\u2069?`, 'the name isolated (FSI ... PDI), as in the button it asks for');
    assert.equal((await focused(page)).text, 'Keep order', 'the focus is on the choice that loses nothing');
    assert.equal(await row.getByRole('button', { name: /^Start processing/ }).isVisible(), false, 'the other buttons step aside');
    await keep.click();
    await row.getByRole('button', { name: /^Start processing/ }).waitFor();
    assert.match((await focused(page)).label ?? '', /^Cancel order: order /, 'the focus goes back to "Cancel order"');
    assert.equal(await row.getByRole('group').count(), 0);
    assert.equal(patches, 0, 'asking sent nothing');
    assert.equal((await serverOrder(order.id)).status, 'pending');

    await row.getByRole('button', { name: /^Cancel order: order/ }).click();
    await row.getByRole('button', { name: `Yes, cancel order ${order.id.slice(-8)} for \u2068Almost Cancelled\u2069`, exact: true }).click();
    await row.locator('.badge', { hasText: 'cancelled' }).waitFor();
    assert.equal(patches, 1);
    assert.equal((await serverOrder(order.id)).status, 'cancelled');
    assert.equal((await focused(page)).order, order.id, 'with no move left, the focus stays on the card');
  });

  test('in the order dialog, by keyboard: Escape keeps the order (and the dialog), Shift+Tab and Enter cancel it', async () => {
    const order = await h.createOrder('Dialog Canceller');
    const page = await h.openBoard(`#/orders/${order.id}`);
    const dialog = page.locator('#detail');
    await dialog.locator('.timeline li').first().waitFor();
    await dialog.getByRole('button', { name: /^Cancel order: order/ }).focus();
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Keep order' }).waitFor();
    assert.equal((await focused(page)).text, 'Keep order');

    await page.keyboard.press('Escape');
    await dialog.getByRole('button', { name: /^Start processing/ }).waitFor();
    assert.equal(await dialog.evaluate((d) => (d as HTMLDialogElement).open), true, 'Escape answered the question, it did not close the dialog');
    assert.match((await focused(page)).label ?? '', /^Cancel order: order /);
    assert.equal((await serverOrder(order.id)).status, 'pending');

    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Keep order' }).waitFor();
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused(page)).text, 'Yes, cancel order');
    await page.keyboard.press('Enter');
    await dialog.locator('.badge', { hasText: 'cancelled' }).waitFor();
    assert.equal((await serverOrder(order.id)).status, 'cancelled');
    const after = await focused(page);
    assert.ok(after.inDialog && after.order === order.id, 'the focus stays in the dialog, on the order');
  });
});

describe('the customer link', () => {
  test('after a create: the notice under the form has the link, copies it, and its QR code scans to it; no toast covers the feed', async () => {
    const page = await h.freshPage(CLIPBOARD);
    await recordToasts(page);
    await page.goto(h.pageUrl);
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.getByLabel('Customer name').fill('Link Customer');
    await page.locator('#item-rows [name="itemName"]').first().fill('teapot');
    await page.getByRole('button', { name: 'Create order' }).click();
    const notice = page.locator('#created');
    await notice.locator('#created-text', { hasText: /^Created order [0-9a-f]{8} for Link Customer\.$/ }).waitFor();

    const link = (await notice.locator('.share-link').getAttribute('href')) ?? '';
    assert.match(link, new RegExp(`^${h.pageUrl.replaceAll('.', '\\.')}track/[A-Za-z0-9_-]{22}$`), 'an absolute /track/TOKEN URL');
    const tracked = await request(h.srv.base, 'GET', `/api/track/${link.split('/').at(-1)}`);
    assert.equal(tracked.status, 200);
    assert.equal((tracked.body as Order).customerName, 'Link Customer', 'the link opens this order');
    const id = (tracked.body as Order).id;
    assert.equal(await notice.locator('#created-text a').getAttribute('href'), `#/orders/${id}`);

    const copy = notice.getByRole('button', { name: `Copy customer link of order ${id.slice(-8)}` });
    await copy.click();
    await notice.locator('button', { hasText: 'Copied ✓' }).waitFor(); // said on the button, not in a toast over the feed
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    await page.locator('#announcer', { hasText: `Copied the customer link of order ${id.slice(-8)}` }).waitFor();

    await notice.locator('summary', { hasText: 'QR code for a phone' }).click();
    const qr = notice.locator('svg.qr');
    await qr.waitFor();
    assert.equal(await qr.getAttribute('aria-label'), `QR code of the customer link of order ${id.slice(-8)}`);
    assert.deepEqual(await svgModules(page, '#created svg.qr'), expectedModules(link), 'the SVG draws the encoder\'s modules');
    await screenshot(page, 'created-notice-qr');

    // Someone else's order toasts; toasts flush in order, so the own create had its chance to toast before it.
    await h.createOrder('Someone Else Entirely');
    await page.waitForFunction(() => (window as unknown as { toastLog: string[] }).toastLog.includes('New order from Someone Else Entirely'));
    const toasts = await page.evaluate(() => (window as unknown as { toastLog: string[] }).toastLog);
    assert.deepEqual(toasts, ['New order from Someone Else Entirely'], 'the own create and copy are said under the form, not in toasts over the feed');
    await page.locator('#activity-list li', { hasText: `#${id.slice(-8)} Link Customer: new, pending` }).waitFor();
  });

  test('the QR code on the page scans, with a real scanner, to the customer link', scanner, async () => {
    const order = await h.createOrder('Scanned Customer');
    const page = await h.openBoard(`#/orders/${order.id}`);
    const dialog = page.locator('#detail');
    await dialog.locator('summary', { hasText: 'QR code for a phone' }).click();
    const qr = dialog.locator('svg.qr');
    await qr.waitFor();
    assert.equal(scan(await qr.screenshot()), `${h.pageUrl}track/${order.trackingToken}`);
  });

  test('in the order dialog of an order made elsewhere: the link is fetched once, copied, and the same as the create answer\'s', async () => {
    const order = await h.createOrder('Elsewhere Customer');
    const page = await h.freshPage(CLIPBOARD);
    let asked = 0;
    page.on('request', (r) => (asked += r.url().endsWith(`/api/orders/${order.id}/tracking-token`) ? 1 : 0));
    await page.goto(`${h.pageUrl}#/orders/${order.id}`);
    const dialog = page.locator('#detail');
    const link = `${h.pageUrl}track/${order.trackingToken}`;
    await dialog.locator('.share-link', { hasText: link }).waitFor();
    await dialog.getByRole('button', { name: `Copy customer link of order ${order.id.slice(-8)}` }).click();
    await page.waitForFunction((want) => navigator.clipboard.readText().then((text) => text === want), link);

    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.waitForFunction(() => location.hash === ''); // the dialog's close event comes a moment after
    await page.goto(`${h.pageUrl}#/orders/${order.id}`);
    await dialog.locator('.share-link', { hasText: link }).waitFor();
    assert.equal(asked, 1, 'kept for the page\'s life, not asked again');
  });
});

describe('the page with tokens on', () => {
  const VIEWER = 'viewer-token-for-the-operator-tests-01';
  const OPERATOR = 'operator-token-for-the-operator-tests-1';

  async function signIn(base: string, token: string, hash = ''): Promise<Page> {
    const page = await h.freshPage();
    await page.goto(base);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="open"]').waitFor();
    if (hash !== '') await page.goto(base + '/' + hash);
    return page;
  }

  test('a viewer never gets a customer link; an operator does', async (t) => {
    h.allowErrors(/status of 401/, /status of 403/);
    const secured = await startServer({ tokens: [['viewer', VIEWER], ['operator', OPERATOR]] });
    t.after(secured.close);
    const created = await request(secured.base, 'POST', '/api/orders', { customerName: 'Secret Link', items: ['x'] }, { authorization: `Bearer ${OPERATOR}` });
    assert.equal(created.status, 201);
    const order = created.body as Order & { trackingToken: string };

    const viewer = await signIn(secured.base, VIEWER);
    const refused = viewer.waitForResponse((r) => r.url().endsWith('/tracking-token'));
    await viewer.goto(`${secured.base}/#/orders/${order.id}`);
    await viewer.locator('#detail .timeline li').first().waitFor();
    assert.equal((await refused).status(), 403, 'the server refuses a viewer the token');
    assert.equal(await viewer.locator('#detail .share').count(), 0);
    assert.equal(await viewer.getByRole('button', { name: /Copy customer link/ }).count(), 0);
    assert.doesNotMatch(await viewer.content(), new RegExp(order.trackingToken), 'the token is nowhere on a viewer\'s page');

    const operator = await signIn(secured.base, OPERATOR, `#/orders/${order.id}`);
    await operator.locator('#detail .share-link', { hasText: `/track/${order.trackingToken}` }).waitFor();
  });

  test('"Export CSV" with a token fetches the export with it (a plain link could not send it)', async (t) => {
    h.allowErrors(/status of 401/, /status of 404/);
    const secured = await startServer({ tokens: [['operator', OPERATOR]] });
    t.after(secured.close);
    const page = await signIn(secured.base, OPERATOR);
    await page.getByRole('button', { name: /^pending/ }).click();
    const sent = page.waitForRequest((r) => r.url().includes('/api/orders.csv'));
    await page.getByRole('link', { name: 'Export CSV' }).click();
    const req = await sent;
    assert.equal(new URL(req.url()).search, '?status=pending');
    assert.equal(req.headers().authorization, `Bearer ${OPERATOR}`);
  });
});

describe('the board at work', () => {
  test('seed orders of every status', async () => {
    const statuses = ['pending', 'processing', 'shipped', 'delivered', 'cancelled', 'pending', 'processing', 'pending', 'shipped', 'pending', 'processing', 'pending'];
    for (const [i, status] of statuses.entries()) {
      const order = await h.createOrder(`Dense Customer ${i + 1}`, [{ name: 'keyboard', quantity: 1 + i, price: 49.5 }, 'mouse', 'cable']);
      if (status !== 'pending') await setStatus(order.id, status);
    }
  });

  test('on a phone, a "New order" button stays on screen and jumps to the form', async () => {
    const page = await h.openBoard('', { viewport: PHONE });
    await page.locator('#orders .card').nth(5).waitFor();
    const jump = page.getByRole('button', { name: 'New order' });
    await jump.waitFor();
    const box = await jump.boundingBox();
    assert.ok(box !== null && box.y >= 0 && box.y + box.height <= PHONE.height, `the button is on screen: ${JSON.stringify(box)}`);
    const form = await page.locator('#create-form').boundingBox();
    assert.ok(form !== null && form.y > PHONE.height, 'the form itself is far below');
    await page.mouse.wheel(0, 600);
    await page.waitForFunction(() => window.scrollY > 0);
    assert.equal(await jump.isVisible(), true, 'still there after scrolling');

    await jump.click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'customer-name');
    const name = await page.getByLabel('Customer name').boundingBox();
    assert.ok(name !== null && name.y >= 0 && name.y + name.height <= PHONE.height, 'the name field is on screen');
    await jump.waitFor({ state: 'hidden' }); // over the form it would only be in the way
    await screenshot(page, 'phone-form');

    const narrow = await h.openBoard('', { viewport: NARROW });
    await narrow.locator('#orders .card').first().waitFor();
    await narrow.getByRole('button', { name: 'New order' }).waitFor();
    await assertFitsViewport(narrow, 'the board with its "New order" button');
  });

  test('the live numbers: Seq is the stream\'s, as the feed shows it', async () => {
    const page = await h.openBoard();
    await page.evaluate(() => {
      const log: [string, string][] = [];
      (window as unknown as { seqLog: typeof log }).seqLog = log;
      const feed = document.querySelector('#activity-list')!;
      // Read both the moment the feed changes: a poll every 2 s could not keep up with this.
      new MutationObserver(() => log.push([feed.querySelector('.feed-seq')?.textContent ?? '', document.querySelector('[data-stat="seq"]')?.textContent ?? ''])).observe(feed, { childList: true });
    });
    for (let i = 1; i <= 5; i++) {
      await h.createOrder(`Seq Watcher ${i}`);
      await page.waitForFunction((n) => (window as unknown as { seqLog: unknown[] }).seqLog.length >= n, i);
    }
    const log = await page.evaluate(() => (window as unknown as { seqLog: [string, string][] }).seqLog);
    for (const [feedSeq, shown] of log) assert.equal(`#${shown.replaceAll(',', '')}`, feedSeq, `Seq shows ${shown} while the feed shows ${feedSeq}`);
    assert.equal(Number(log.at(-1)![1].replaceAll(',', '')), h.srv.server.orders.position.seq);
  });

  test('the live numbers come back as soon as the socket does, not a poll or two later', async (t) => {
    h.allowErrors(...OUTAGE_ERRORS);
    const page = await h.openBoard();
    await page.locator('[data-stat="rate"]', { hasText: /^[\d.,]+$/ }).waitFor();
    h.proxy.refuse(true);
    t.after(() => h.proxy.refuse(false));
    h.proxy.dropAll();
    await page.locator('#connection[data-state="waiting"]').waitFor();
    await page.locator('[data-stat="connections"]', { hasText: '–' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-stat="rate"]', { hasText: '–' }).waitFor();

    h.proxy.refuse(false);
    const back = Date.now();
    await page.locator('#retry').click();
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.locator('[data-stat="connections"]', { hasText: /^[1-9]/ }).waitFor();
    await page.locator('[data-stat="rate"]', { hasText: /^[\d.,]+$/ }).waitFor();
    const elapsed = Date.now() - back;
    // Polling alone needs two successful polls, STATS_POLL_MS apart, after the server is back.
    assert.ok(elapsed < STATS_POLL_MS, `connections and events/s took ${elapsed} ms to come back`);
    assert.match((await page.locator('[data-stat="seq"]').textContent()) ?? '', /^[\d,]+$/);
  });

  test('the compact board is kept in the URL, fits more than 6 orders on 1280×800, and its badges stay on one line', async () => {
    const page = await h.openBoard('', { viewport: DESKTOP });
    await page.locator('#orders .card').nth(11).waitFor();
    const fullyShown = (): Promise<number> =>
      page.locator('#orders .card').evaluateAll((cards) => cards.filter((c) => {
        const box = c.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
      }).length);
    const asCards = await fullyShown();

    await page.getByRole('button', { name: 'Compact' }).click();
    await page.waitForURL(/\?view=compact$/);
    await page.locator('#orders.compact').waitFor();
    const compact = await fullyShown();
    assert.ok(compact > 6 && compact > asCards, `${compact} orders fully on screen in the compact board (${asCards} as cards)`);
    const badges = await page.locator('#orders .card').evaluateAll((cards) => cards.slice(0, 12).map((c) => {
      const badge = c.querySelector('.badge')!.getBoundingClientRect();
      const id = c.querySelector('.order-id')!.getBoundingClientRect();
      return { badgeHeight: badge.height, lineHeight: parseFloat(getComputedStyle(c.querySelector('.badge')!).lineHeight) || 20, offset: Math.abs(badge.top + badge.height / 2 - (id.top + id.height / 2)) };
    }));
    for (const b of badges) {
      assert.ok(b.badgeHeight < 2 * b.lineHeight, `a badge ${b.badgeHeight} px tall wrapped`);
      assert.ok(b.offset < 6, `a badge sits ${b.offset} px off its row's id line`);
    }
    await screenshot(page, 'board-compact');

    // Kept in the URL: a reload, and another filter, keep it.
    await page.reload();
    await page.locator('#orders.compact .card').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Compact' }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: /^pending/ }).click();
    await page.waitForURL(/\?status=pending&view=compact$/);
    // Moves work the same in a row.
    const first = page.locator('#orders .card').first();
    const id = (await first.getAttribute('data-order-id'))!;
    await first.getByRole('button', { name: /^Start processing/ }).click();
    await page.waitForFunction((orderId) => document.querySelector(`#orders .card[data-order-id="${orderId}"]`) === null, id);
    assert.equal((await serverOrder(id)).status, 'processing');
    await page.getByRole('button', { name: 'Cards' }).click();
    await page.waitForURL(/\?status=pending$/);
    await page.locator('#orders.compact').waitFor({ state: 'detached' });
    await page.locator('#orders .card').first().waitFor();

    for (const viewport of [NARROW, { width: 1000, height: 800 }]) {
      const other = await h.openBoard('?view=compact', { viewport });
      await other.locator('#orders.compact .card').first().waitFor();
      await assertFitsViewport(other, `the compact board at ${viewport.width} px`);
      const overflowing = await other.locator('#orders .card').evaluateAll((cards) => cards.filter((c) => c.scrollWidth > c.clientWidth + 1).length);
      assert.equal(overflowing, 0, `rows wider than the board at ${viewport.width} px`);
      if (viewport !== NARROW) await screenshot(other, 'board-compact-1000');
    }
  });

  test('"Export CSV" links to /api/orders.csv with the board\'s filter', async () => {
    const page = await h.openBoard('?status=pending,processing&q=Dense');
    const link = page.getByRole('link', { name: 'Export CSV' });
    assert.equal(await link.getAttribute('href'), '/api/orders.csv?status=pending,processing&q=Dense');
    await page.getByRole('button', { name: /^shipped/ }).click();
    await page.waitForFunction(() => document.querySelector('#export-csv')?.getAttribute('href') === '/api/orders.csv?status=pending,processing,shipped&q=Dense');
    await page.getByRole('button', { name: /^All/ }).click();
    await page.locator('#search').fill('');
    await page.waitForFunction(() => document.querySelector('#export-csv')?.getAttribute('href') === '/api/orders.csv');
  });

  test('an empty item row is named: "Item row 1 is empty", and nothing is sent', async () => {
    const page = await h.openBoard();
    let posts = 0;
    page.on('request', (r) => (posts += r.method() === 'POST' ? 1 : 0));
    await page.getByLabel('Customer name').fill('Empty Rows');
    await page.getByRole('button', { name: 'Create order' }).click();
    const firstRow = page.locator('#item-rows .item-row').first();
    await firstRow.locator('.item-error', { hasText: 'Item row 1 is empty: enter what was ordered.' }).waitFor();
    assert.equal(await firstRow.locator('[name="itemName"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#item-rows [name="itemName"]')), true);
    assert.equal(await page.locator('[data-error-for="items"]').textContent(), '', 'no vague "Items must hold 1 to 100 items"');

    await page.getByRole('button', { name: 'Add item' }).click();
    await page.getByRole('button', { name: 'Create order' }).click();
    await firstRow.locator('.item-error', { hasText: 'Item rows 1 and 2 are both empty: enter what was ordered in row 1.' }).waitFor();
    assert.equal(posts, 0);
  });

  test('a link to an order: a short id opens it, anything else says the order was not found', async () => {
    h.allowErrors(/status of 404/);
    const order = await h.createOrder('Short Link Customer');
    const page = await h.openBoard(`#/orders/${order.id.slice(-8)}`);
    const dialog = page.locator('#detail');
    await dialog.locator('dd', { hasText: 'Short Link Customer' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/orders/${order.id}`, 'the address bar gets the whole id');

    await page.goto(`${h.pageUrl}#/orders/no-such-order`);
    await dialog.locator('#detail-title', { hasText: 'Order not found' }).waitFor();
    await dialog.locator('.detail-missing', { hasText: 'No order was found for “no-such-order”' }).waitFor();

    await page.goto(`${h.pageUrl}#/orders/00000000-0000-7000-8000-000000000000`);
    await dialog.locator('.detail-missing', { hasText: 'This order was not found' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.waitForFunction(() => location.hash === ''); // closing clears the link
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`axe-core: the new parts (notice with QR code, dialog link, cancel question, compact board) have no serious problem (${colorScheme})`, async () => {
      const page = await h.openBoard('', { colorScheme, bypassCSP: true });
      await page.getByLabel('Customer name').fill(`Axe ${colorScheme}`);
      await page.locator('#item-rows [name="itemName"]').first().fill('lamp');
      await page.getByRole('button', { name: 'Create order' }).click();
      await page.locator('#created .share-link').waitFor();
      await page.locator('#created summary').click();
      const pending = page.locator('#orders .card[data-status="pending"]').first();
      await pending.getByRole('button', { name: /^Cancel order/ }).click();
      await pending.getByRole('button', { name: 'Keep order' }).waitFor();
      await assertNoSeriousAxeViolations(page, `the board with the created notice and a cancel question (${colorScheme})`);

      const id = await pending.getAttribute('data-order-id');
      await page.goto(`${h.pageUrl}#/orders/${id}`);
      await page.locator('#detail .share-link').waitFor();
      await page.locator('#detail summary').click();
      await assertNoSeriousAxeViolations(page, `the dialog with the customer link (${colorScheme})`);

      await page.goto(`${h.pageUrl}?view=compact`);
      await page.locator('#orders.compact .card').first().waitFor();
      await assertNoSeriousAxeViolations(page, `the compact board (${colorScheme})`);
    });
  }
});
