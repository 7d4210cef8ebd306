/**
 * The browser page end to end: real server, real Chromium (see browser.ts for
 * which one; driven by playwright-core), real WebSocket. Pages load through a TCP proxy
 * so a test can cut the connection the way a network would.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Order, CreatedOrder } from '../src/protocol.ts';
import { orderBody, request, startServer, waitFor } from './helpers.ts';
import { screenshot, usePageHarness } from './page-harness.ts';
import { TcpProxy } from './tcp-proxy.ts';

const h = usePageHarness();
/** The viewport these tests were written at. */
const VIEWPORT = { width: 1200, height: 900 } as const;
/** A page in a context of its own, whose console errors and exceptions fail the test unless expected. */
const freshPage = (): Promise<Page> => h.freshPage({ viewport: VIEWPORT });
/** A fresh page on the board, waiting until it is live. */
const openBoard = (path = ''): Promise<Page> => h.openBoard(path, { viewport: VIEWPORT });

function card(page: Page, id: string) {
  return page.locator(`#orders .card[data-order-id="${id}"]`);
}

async function createViaApi(name: string, items: unknown[] = ['widget']): Promise<Order> {
  const res = await request(h.srv.base, 'POST', '/api/orders', orderBody(name, items));
  assert.equal(res.status, 201);
  return res.body as Order;
}

async function serverOrders(): Promise<Order[]> {
  return (await request(h.srv.base, 'GET', '/api/orders?limit=1000')).body as Order[];
}

/** The cards the page shows, as [id, status] in display order. */
async function shownCards(page: Page): Promise<string[][]> {
  return page.locator('#orders .card').evaluateAll((cards) => cards.map((c) => [(c as HTMLElement).dataset.orderId ?? '', (c as HTMLElement).dataset.status ?? '']));
}

describe('the order board in Chromium', () => {
  test('creating an order through the form shows its card and resets the form', async () => {
    const page = await openBoard();
    await page.getByLabel('Customer name').fill('Grace Hopper');
    await page.locator('#item-rows [name="itemName"]').first().fill('laptop, mouse');
    await page.getByRole('button', { name: 'Add item' }).click();
    const second = page.locator('#item-rows .item-row').nth(1);
    await second.locator('[name="itemName"]').fill('monitor');
    await second.locator('[name="itemQuantity"]').fill('2');
    await second.locator('[name="itemPrice"]').fill('199.99');
    await page.getByRole('button', { name: 'Create order' }).click();

    const created = page.locator('#orders .card', { hasText: 'Grace Hopper' });
    await created.waitFor();
    assert.deepEqual(await created.locator('.lines li').allTextContents(), ['1 × laptop', '1 × mouse', '2 × monitor · 199.99']);
    assert.equal(await created.locator('.badge').textContent(), 'pending');
    const stored = (await serverOrders()).find((o) => o.customerName === 'Grace Hopper');
    assert.ok(stored);
    assert.deepEqual(stored.items, [
      { name: 'laptop', quantity: 1 },
      { name: 'mouse', quantity: 1 },
      { name: 'monitor', quantity: 2, price: 199.99 },
    ]);
    assert.equal(await page.getByLabel('Customer name').inputValue(), '');
    assert.equal(await page.locator('#item-rows .item-row').count(), 1);
  });

  test('form mistakes show as sentences next to the fields they concern, before anything is sent', async () => {
    const page = await openBoard();
    const before = (await serverOrders()).length;
    let posts = 0;
    page.on('request', (r) => (posts += r.method() === 'POST' ? 1 : 0));
    await page.getByLabel('Customer name').fill('   ');
    await page.locator('#item-rows [name="itemName"]').first().fill('gadget');
    await page.locator('#item-rows [name="itemQuantity"]').first().fill('0');
    await page.getByRole('button', { name: 'Create order' }).click();
    await page.locator('[data-error-for="customerName"]', { hasText: 'Customer name must not be empty.' }).waitFor();
    assert.equal(await page.locator('#item-rows .item-error').first().textContent(), 'Quantity must be a whole number from 1 to 1,000,000.');
    assert.equal(await page.getByLabel('Customer name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#item-rows [name="itemQuantity"]').first().getAttribute('aria-invalid'), 'true');
    assert.equal(posts, 0, 'checked in the browser: no round trip');
    assert.equal((await serverOrders()).length, before);
  });

  test('buttons advance and cancel orders and show only the moves the status machine allows', async () => {
    const page = await openBoard();
    const a = await createViaApi('Advance Me');
    const b = await createViaApi('Cancel Me');
    const cardA = card(page, a.id);
    await cardA.getByRole('button', { name: /^Start processing/ }).click();
    await cardA.locator('.badge', { hasText: 'processing' }).waitFor();
    await cardA.getByRole('button', { name: /^Mark shipped/ }).click();
    await cardA.locator('.badge', { hasText: 'shipped' }).waitFor();
    assert.deepEqual(await cardA.locator('.actions button').allTextContents(), ['Mark delivered'], 'no cancel once shipped');
    await cardA.getByRole('button', { name: /^Mark delivered/ }).click();
    await cardA.locator('.badge', { hasText: 'delivered' }).waitFor();
    assert.equal(await cardA.locator('.actions button').count(), 0, 'delivered is final');

    // Cancelling is for good, so "Cancel order" asks first and only the confirmation sends.
    await card(page, b.id).getByRole('button', { name: /^Cancel order/ }).click();
    await card(page, b.id).getByRole('button', { name: /^Yes, cancel order/ }).click();
    await card(page, b.id).locator('.badge', { hasText: 'cancelled' }).waitFor();
    assert.equal(await card(page, b.id).locator('.actions button').count(), 0);
    const stored = await serverOrders();
    assert.deepEqual(stored.find((o) => o.id === a.id)?.history.map((h) => h.status), ['pending', 'processing', 'shipped', 'delivered']);
    assert.equal(stored.find((o) => o.id === b.id)?.status, 'cancelled');
  });

  test('two pages see each other\'s changes, and a change made over HTTP shows up with a highlight', async () => {
    const left = await openBoard();
    const right = await openBoard();
    await left.getByLabel('Customer name').fill('Two Tabs');
    await left.locator('#item-rows [name="itemName"]').first().fill('book');
    await left.getByRole('button', { name: 'Create order' }).click();
    const onRight = right.locator('#orders .card', { hasText: 'Two Tabs' });
    await onRight.waitFor();
    const id = await onRight.getAttribute('data-order-id');
    assert.ok(id);
    await onRight.getByRole('button', { name: /^Start processing/ }).click();
    await card(left, id).locator('.badge', { hasText: 'processing' }).waitFor();

    const res = await request(h.srv.base, 'PUT', `/api/orders/${id}/status`, { status: 'shipped' });
    assert.equal(res.status, 200);
    for (const page of [left, right]) {
      await card(page, id).locator('.badge', { hasText: 'shipped' }).waitFor();
      assert.match((await card(page, id).getAttribute('class')) ?? '', /\bflash\b/);
    }
    await right.locator('#announcer', { hasText: /is now shipped/ }).waitFor();
  });

  test('after the connection drops, the indicator counts down and the page resyncs exactly', async (t) => {
    // The outage is deliberate: a socket attempt or a stats poll that falls inside it fails to load.
    h.allowErrors(/WebSocket connection to .* failed/, /Failed to load resource: net::ERR_CONNECTION_(RESET|REFUSED|CLOSED)/);
    const page = await openBoard();
    const keep = await createViaApi('Survivor');
    const remove = await createViaApi('Doomed');
    await card(page, remove.id).waitFor();

    h.proxy.refuse(true);
    t.after(() => h.proxy.refuse(false)); // later tests need the proxy even if this one fails
    h.proxy.dropAll();
    await page.locator('#connection[data-state="waiting"]').waitFor();
    assert.match((await page.locator('#connection-text').textContent()) ?? '', /^Reconnecting in \d+s$/);
    assert.equal(await page.locator('#retry').isVisible(), true);

    // Changes the page cannot hear about while it is cut off.
    const missed = await createViaApi('Made While Offline');
    await request(h.srv.base, 'PUT', `/api/orders/${keep.id}/status`, { status: 'cancelled' });
    await request(h.srv.base, 'DELETE', `/api/orders/${remove.id}`);

    h.proxy.refuse(false);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 20_000 });
    await card(page, missed.id).waitFor();
    await card(page, keep.id).locator('.badge', { hasText: 'cancelled' }).waitFor();
    assert.equal(await card(page, remove.id).count(), 0);
    const expected = (await serverOrders()).slice(0, 120).map((o) => [o.id, o.status]);
    assert.deepEqual(await shownCards(page), expected, 'exactly the server\'s orders, no duplicates, none missing');
  });

  test('the heartbeat keeps a healthy connection and replaces one that went silent', async (t) => {
    // A route of its own, so other pages' connections do not count; page timers run on a
    // fake clock, so the 15 s heartbeat is stepped through, not waited for.
    const route = await TcpProxy.start(Number(new URL(h.srv.base).port));
    const page = await freshPage();
    // The page goes before its route, or its reconnect attempts would log errors into later tests.
    t.after(async () => {
      await page.context().close();
      await route.close();
    });
    let pongs = 0;
    // WebSockets the page opened: the route also carries the page's HTTP requests (stats polls), whose
    // keep-alive connections a stall replaces too, so its count of TCP connections says nothing of reconnects.
    let sockets = 0;
    page.on('websocket', (ws) => {
      sockets++;
      ws.on('framereceived', ({ payload }) => (pongs += String(payload).includes('"type":"pong"') ? 1 : 0));
    });
    await page.clock.install();
    await page.goto(`http://127.0.0.1:${route.port}/`);
    await page.locator('#connection[data-state="open"]').waitFor();
    const opened = sockets;

    // Healthy: each ping is answered, so three intervals pass without a reconnect.
    for (let i = 1; i <= 3; i++) {
      await page.clock.runFor(15_000);
      await waitFor(() => pongs >= i, `pong ${i}`, 10_000); // the answer is in before the clock moves on
    }
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'open');
    assert.equal(sockets, opened, 'no new WebSocket while pongs arrive');

    // A dead route: nothing is closed, nothing arrives. One interval sends an unanswered ping,
    // the next gives up on the socket; the backoff timer then reconnects through a fresh connection.
    route.stall();
    const missed = await createViaApi('Made While Silent');
    await page.clock.runFor(15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sockets, opened, 'one unanswered ping is not yet a verdict');
    await page.clock.runFor(15_000);
    await page.clock.runFor(10_000);
    await page.locator('#connection[data-state="open"]').waitFor();
    await card(page, missed.id).waitFor(); // only a new connection can have brought it
    assert.equal(sockets, opened + 1, 'exactly one reconnect');
  });

  test('customer text is inserted as text, never as HTML', async () => {
    let dialogs = 0;
    const page = await openBoard();
    page.on('dialog', (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    const evil = '<img src=x onerror=alert(1)>';
    const order = await createViaApi(evil, ['<b>bold</b>']);
    await card(page, order.id).waitFor();
    assert.equal(await card(page, order.id).locator('.customer').textContent(), evil);
    assert.equal(await card(page, order.id).locator('.lines li').textContent(), '1 × <b>bold</b>');
    assert.equal(await page.locator('#orders img, #orders b').count(), 0);
    await page.reload();
    await card(page, order.id).waitFor();
    assert.equal(await page.locator('#orders img').count(), 0);
    assert.equal(dialogs, 0);
  });

  test('the status filter and search live in the URL and survive a reload', async () => {
    const page = await openBoard();
    const shipped = await createViaApi('Filter Shipped');
    await request(h.srv.base, 'PUT', `/api/orders/${shipped.id}/status`, { status: 'shipped' });
    const pending = await createViaApi('Filter Pending');
    await card(page, pending.id).waitFor();

    await page.locator('#status-filter button[data-status="shipped"]').click();
    await page.waitForURL(/\?status=shipped$/);
    await card(page, shipped.id).waitFor();
    await card(page, pending.id).waitFor({ state: 'detached' });
    assert.ok((await shownCards(page)).every(([, status]) => status === 'shipped'));

    await page.getByLabel('Search by customer or order id').fill('filter ship');
    await page.waitForURL(/\?status=shipped&q=filter(\+|%20)ship$/);
    // The URL changes at once; the cards follow on the next animation frame.
    await page.locator('#summary', { hasText: 'matching “filter ship”' }).waitFor();
    assert.deepEqual((await shownCards(page)).map(([id]) => id), [shipped.id]);

    await page.reload();
    await page.locator('#connection[data-state="open"]').waitFor();
    await card(page, shipped.id).waitFor();
    assert.equal(await page.locator('#status-filter button[data-status="shipped"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByLabel('Search by customer or order id').inputValue(), 'filter ship');
    assert.deepEqual((await shownCards(page)).map(([id]) => id), [shipped.id]);

    // An order entering the filtered view arrives live.
    await request(h.srv.base, 'PUT', `/api/orders/${pending.id}/status`, { status: 'shipped' });
    await page.getByLabel('Search by customer or order id').fill('');
    await card(page, pending.id).waitFor();
  });

  test('the detail view shows the status timeline and follows live changes', async () => {
    const order = await createViaApi('Timeline');
    await request(h.srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' });
    const page = await openBoard(`#/orders/${order.id}`);
    const dialog = page.locator('#detail');
    await dialog.locator('.timeline li').nth(1).waitFor();
    assert.deepEqual(await dialog.locator('.timeline li strong').allTextContents(), ['pending', 'processing']);
    assert.equal(await dialog.locator('dd', { hasText: 'Timeline' }).count(), 1);
    await request(h.srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'shipped' });
    await dialog.locator('.timeline li').nth(2).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForURL((url) => url.hash === '');
  });

  test('a store larger than the snapshot says so and loads older orders on demand', async (t) => {
    const big = await startServer();
    t.after(big.close);
    for (let i = 0; i < 1100; i++) big.server.commands.create({ customerName: `Bulk ${i}`, items: [{ name: 'x', quantity: 1 }] });
    const page = await freshPage();
    await page.goto(big.base);
    await page.locator('#summary', { hasText: '1,000 of 1,100 orders loaded' }).waitFor();
    assert.equal(await page.locator('#orders .card').count(), 120, 'renders one page of cards, not all 1,000');
    await page.getByRole('button', { name: /Load older orders \(100 more\)/ }).click();
    await page.locator('#load-older').waitFor({ state: 'hidden' });
    assert.match((await page.locator('#summary').textContent()) ?? '', /of 1,100$/);
    await page.getByLabel('Search by customer or order id').fill('Bulk 0');
    await page.locator('#orders .card').nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('#orders .card .customer').allTextContents(), ['Bulk 0']);
    await screenshot(page, 'large-store');
    await page.context().close(); // before its server goes, or it would retry (and log) into the next test
  });

  test('the page is keyboard usable and a screenshot is taken', async () => {
    const page = await openBoard();
    await createViaApi('Keyboard');
    await page.locator('#orders .card', { hasText: 'Keyboard' }).waitFor();
    await page.keyboard.press('Tab'); // skip link
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to orders');
    await screenshot(page, 'board', true);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'board-phone-dark', true);
  });

  test('the page is served with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(h.srv.base + '/');
    const html = await res.text();
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const js = await fetch(h.srv.base + '/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const etag = js.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(h.srv.base + '/app.js', { headers: { 'If-None-Match': etag } })).status, 304);
    assert.equal((await fetch(h.srv.base + '/../package.json')).status, 404);
    assert.equal((await fetch(h.srv.base + '/client/main.ts')).status, 404);
  });
});

describe('the page with tokens on', () => {
  const VIEWER = 'viewer-token-for-the-page-0123456789';
  const OPERATOR = 'operator-token-for-the-page-012345678';

  test('asks for a token, refuses a wrong one, and shows the live board with a right one', async (t) => {
    h.allowErrors(/status of 401/);
    const secured = await startServer({ tokens: [['viewer', VIEWER], ['operator', OPERATOR]] });
    t.after(secured.close);
    const created = await fetch(`${secured.base}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('Behind a token')),
    });
    assert.equal(created.status, 201);
    const page = await freshPage();
    await page.goto(secured.base);
    await page.locator('#login', { hasText: 'Access token' }).waitFor();
    assert.match((await page.locator('#login-error').textContent()) ?? '', /needs an access token/);
    assert.equal(await page.locator('.layout').isVisible(), false, 'no board before signing in');

    await page.getByLabel('Access token').fill('wrong-token-wrong-token-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: 'That token was refused' }).waitFor();

    await page.getByLabel('Access token').fill(VIEWER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.locator('#orders .card', { hasText: 'Behind a token' }).waitFor();
    assert.equal(await page.locator('#sign-out').isVisible(), true);
    assert.equal(await page.locator('#login').isVisible(), false, 'no "Sign in" next to "Sign out"');
    const live = await fetch(`${secured.base}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('Arrives live')),
    });
    assert.equal(live.status, 201);
    await page.locator('#orders .card', { hasText: 'Arrives live' }).waitFor();
    await page.context().close();
  });

  test('a token revoked while the board is open sends the page back to the sign-in form', async (t) => {
    h.allowErrors(/status of 401/);
    const secured = await startServer({ tokens: [['viewer', VIEWER], ['operator', OPERATOR]] });
    t.after(secured.close);
    const page = await freshPage();
    await page.goto(secured.base);
    await page.getByLabel('Access token').fill(VIEWER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="open"]').waitFor();

    const replaced = secured.server.replaceTokens([['operator', OPERATOR]]);
    assert.deepEqual(replaced, { ok: true, value: { closedSockets: 1 } });
    await page.locator('#login-error', { hasText: 'That token was refused' }).waitFor();
    assert.equal(await page.locator('.layout').isVisible(), false, 'the board is gone');
    await page.context().close();
  });

  test('/track/TOKEN shows the customer where their order is, read only, and follows it live', async (t) => {
    const secured = await startServer({ tokens: [['operator', OPERATOR]] });
    t.after(secured.close);
    const post = await fetch(`${secured.base}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('Customer view', [{ name: 'teapot', quantity: 2, price: 12.5 }])),
    });
    const order = (await post.json()) as CreatedOrder;
    const page = await freshPage();
    await page.goto(`${secured.base}/track/${order.trackingToken}`);
    const current = page.locator('#stepper li[aria-current="step"]');
    await current.waitFor();
    assert.equal(await current.getAttribute('data-step'), 'pending');
    assert.deepEqual(await page.locator('#stepper .step-label').allTextContents(), ['Order received', 'Being prepared', 'On its way', 'Delivered']);
    assert.deepEqual(await page.locator('#track-lines li').allTextContents(), ['2 × teapot · 12.50']);
    assert.equal(await page.locator('#track-total').textContent(), 'Total 25.00');
    assert.match((await page.locator('#track-lead').textContent()) ?? '', /^Hi Customer view,/);
    assert.match((await page.locator('#track-updated').textContent()) ?? '', /last update/);
    const text = (await page.locator('body').innerText()) ?? '';
    assert.ok(!text.includes(order.id), 'no raw order id for customers');
    assert.equal(await page.locator('button:visible, input:visible, dialog').count(), 0, 'no buttons, fields, sign-in or dialog for customers');

    await fetch(`${secured.base}/api/orders/${order.id}/status`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: '{"status":"shipped"}',
    });
    await page.locator('#stepper li[data-step="shipped"][aria-current="step"]').waitFor();
    assert.deepEqual(await page.locator('#stepper li').evaluateAll((steps) => steps.map((s) => s.className)), [
      'step step-done',
      'step step-done',
      'step step-current',
      'step step-upcoming',
    ]);
    await page.context().close();
  });
});
