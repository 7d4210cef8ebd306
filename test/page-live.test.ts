/**
 * The page while the stream runs, in Chromium: one toast per own action and
 * bursts summed up, throttled announcements, the board when the network goes
 * and comes back, a server restart under an open detail view, the activity
 * feed and live numbers, and tracking links that lead nowhere.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ANNOUNCE_INTERVAL_MS } from '../client/notify.ts';
import { orderBody, request, startServer, waitFor } from './helpers.ts';
import { screenshot, usePageHarness } from './page-harness.ts';
import { TcpProxy } from './tcp-proxy.ts';

const h = usePageHarness();
/** Errors a page logs while its server is unreachable, as it should. */
const OUTAGE_ERRORS = [/WebSocket connection to .* failed/, /Failed to load resource/];

/** Record every toast and every live-region announcement the page makes, from its first moment. */
async function recordNotices(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const log = { toasts: [] as string[], announced: [] as string[] };
    (window as unknown as { notices: typeof log }).notices = log;
    document.addEventListener('DOMContentLoaded', () => {
      const toasts = document.querySelector('#toasts');
      const announcer = document.querySelector('#announcer');
      if (toasts === null || announcer === null) return;
      new MutationObserver((records) => {
        for (const r of records) for (const node of r.addedNodes) log.toasts.push(node.textContent ?? '');
      }).observe(toasts, { childList: true });
      new MutationObserver(() => log.announced.push(announcer.textContent ?? '')).observe(announcer, { childList: true, characterData: true, subtree: true });
    });
  });
}

function notices(page: Page): Promise<{ toasts: string[]; announced: string[] }> {
  return page.evaluate(() => (window as unknown as { notices: { toasts: string[]; announced: string[] } }).notices);
}

/** How many orders the "new order" toasts speak of. */
function ordersToasted(toasts: readonly string[]): number {
  return toasts.reduce((sum, t) => sum + (/^New order from /.test(t) ? 1 : Number(/^([\d,]+) new orders$/.exec(t)?.[1]?.replaceAll(',', '') ?? 0)), 0);
}

describe('the page while the stream runs', () => {
  test('no toast for an own create (the notice under the form says it), one per other create; a burst of 2,000 creates is summed up and announced a few times, not 2,000', async () => {
    const page = await h.freshPage();
    await recordNotices(page);
    await page.goto(h.pageUrl);
    await page.locator('#connection[data-state="open"]').waitFor();

    await page.getByLabel('Customer name').fill('Solo Toast');
    await page.locator('#item-rows [name="itemName"]').first().fill('kettle');
    await page.getByRole('button', { name: 'Create order' }).click();
    await page.locator('#orders .card', { hasText: 'Solo Toast' }).waitFor();
    await h.createOrder('Someone Else');
    await page.waitForFunction(() => (window as unknown as { notices: { toasts: string[] } }).notices.toasts.includes('New order from Someone Else'));
    // Toasts flush in order, so by now the own order's event has had its chance to toast.
    const first = (await notices(page)).toasts;
    assert.deepEqual(first, ['New order from Someone Else'], 'the own create raises no toast over the activity feed');
    await page.locator('#created-text', { hasText: /^Created order [0-9a-f]{8} for Solo Toast\.$/ }).waitFor();

    const burst = 2000;
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < burst) {
          next++;
          const res = await request(h.srv.base, 'POST', '/api/orders', orderBody(`Burst ${next}`, ['x']));
          assert.equal(res.status, 201);
        }
      }),
    );
    await page.waitForFunction(
      ([from, want]) => {
        const { toasts } = (window as unknown as { notices: { toasts: string[] } }).notices;
        const spoken = toasts.slice(from).reduce((sum, t) => sum + (/^New order from /.test(t) ? 1 : Number(/^([\d,]+) new orders$/.exec(t)?.[1]?.replaceAll(',', '') ?? 0)), 0);
        return spoken >= want;
      },
      [first.length, burst] as const,
      { timeout: 30_000 },
    );
    const elapsed = Date.now() - started;
    const { toasts, announced } = await notices(page);
    const burstToasts = toasts.slice(first.length);
    assert.equal(ordersToasted(burstToasts), burst, 'every new order is counted once');
    assert.ok(burstToasts.length <= 20, `${burstToasts.length} toasts for one burst`);
    assert.ok(burstToasts.some((t) => /^[\d,]+ new orders$/.test(t)), burstToasts.join(' | '));
    const bound = Math.ceil(elapsed / ANNOUNCE_INTERVAL_MS) + 3;
    assert.ok(announced.length <= bound, `${announced.length} announcements in ${elapsed} ms (at most ${bound})`);
    assert.ok(announced.some((a) => /changes, .* new orders\.$/.test(a)), announced.join(' | '));
  });

  test('cut off, the board dims, moves wait, an offline submit says so; back, all clears, and the page probes quickly', async (t) => {
    h.allowErrors(...OUTAGE_ERRORS);
    const page = await h.openBoard();
    const order = await h.createOrder('Offline Mover');
    const card = page.locator(`#orders .card[data-order-id="${order.id}"]`);
    await card.waitFor();
    let sockets = 0;
    let patches = 0;
    page.on('websocket', () => sockets++);
    page.on('request', (r) => (patches += r.method() === 'PATCH' ? 1 : 0));

    h.proxy.refuse(true);
    t.after(() => h.proxy.refuse(false)); // later tests need the proxy even if this one fails
    h.proxy.dropAll();
    await page.locator('#board[data-live="false"]').waitFor();
    await page.locator('#summary', { hasText: /^Not live: showing orders as of / }).waitFor();
    const move = card.getByRole('button', { name: /^Start processing/ });
    assert.equal(await move.getAttribute('aria-disabled'), 'true');
    await move.click({ force: true }); // playwright itself treats aria-disabled as not clickable

    await page.getByLabel('Customer name').fill('Offline Submit');
    await page.locator('#item-rows [name="itemName"]').first().fill('lamp');
    await page.getByRole('button', { name: 'Create order' }).click();
    await page.locator('.form-error', { hasText: 'The server cannot be reached.' }).waitFor();
    await screenshot(page, 'board-offline');
    // The submit's request went out after the click's would have.
    assert.equal(patches, 0, 'a move on stale data is not sent');

    // Refused attempts fail fast: the page keeps probing every second or two instead of backing off to 15 s.
    await waitFor(() => sockets >= 5, 'five reconnect attempts', 20_000);
    await page.locator('#connection[data-state="waiting"]').waitFor();
    assert.match((await page.locator('#connection-text').textContent()) ?? '', /^Reconnecting in [0-2]s$/);

    h.proxy.refuse(false);
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 5000 });
    await page.locator('#board[data-live="true"]').waitFor();
    await page.locator('.form-error').waitFor({ state: 'hidden' });
    assert.equal(await move.getAttribute('aria-disabled'), null);
    await move.click();
    await card.locator('.badge', { hasText: 'processing' }).waitFor();
  });

  test('a server restarted with an empty store: the board resets and says so, the open detail says the order is gone', async (t) => {
    h.allowErrors(...OUTAGE_ERRORS, /status of 404/);
    const first = await startServer();
    const route = await TcpProxy.start(Number(new URL(first.base).port));
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    const page = await h.freshPage();
    t.after(async () => {
      await page.context().close();
      await route.close();
      await first.close();
      await second?.close();
    });
    const created = await request(first.base, 'POST', '/api/orders', orderBody('Before Restart'));
    const id = (created.body as { id: string }).id;
    await page.goto(`http://127.0.0.1:${route.port}/#/orders/${id}`);
    await page.locator('#detail .actions button').first().waitFor();

    route.refuse(true);
    route.dropAll();
    await first.close();
    second = await startServer();
    route.retarget(Number(new URL(second.base).port));
    route.refuse(false);

    await page.locator('#notice', { hasText: 'The server restarted and its data was reset' }).waitFor({ timeout: 15_000 });
    await page.locator('#detail .detail-missing', { hasText: 'the server restarted and its data was reset' }).waitFor();
    assert.equal(await page.locator('#detail button[data-action="move"]').count(), 0, 'no moves on an order that is gone');
    await page.locator('#empty', { hasText: 'No orders yet' }).waitFor();
    await page.locator('#activity-list li', { hasText: 'Server restarted: data reset' }).waitFor();
    await screenshot(page, 'detail-after-restart');
  });

  test('the activity feed shows changes far below the fold, and the live numbers move', async () => {
    const page = await h.openBoard();
    const oldest = await h.createOrder('Far Below');
    for (let i = 0; i < 130; i++) h.srv.server.commands.create({ customerName: `Filler ${i}`, items: [{ name: 'x', quantity: 1 }] });
    await page.locator('#orders .card', { hasText: 'Filler 129' }).waitFor();
    assert.equal(await page.locator(`#orders .card[data-order-id="${oldest.id}"]`).count(), 0, 'its card is not even drawn');
    const res = await request(h.srv.base, 'PUT', `/api/orders/${oldest.id}/status`, { status: 'processing' });
    assert.equal(res.status, 200);
    const top = page.locator('#activity-list li').first();
    await top.locator('.feed-text', { hasText: `#${oldest.id.slice(-8)} Far Below: pending → processing` }).waitFor();
    assert.match((await top.locator('.feed-seq').textContent()) ?? '', /^#\d+$/);
    assert.ok((await page.locator('#activity-list li').count()) <= 50, 'the feed keeps only the latest entries');

    await page.locator('[data-stat="connections"]', { hasText: /^[1-9]/ }).waitFor();
    // Keep the stream running until a poll sees it move.
    let rate = '';
    const deadline = Date.now() + 15_000;
    while (!/^[\d.,]+$/.test(rate) || Number(rate.replaceAll(',', '')) === 0) {
      assert.ok(Date.now() < deadline, `events/s stayed at "${rate}"`);
      for (let i = 0; i < 20; i++) h.srv.server.commands.create({ customerName: 'Rate', items: [{ name: 'x', quantity: 1 }] });
      await page.waitForTimeout(200);
      rate = (await page.locator('[data-stat="rate"]').textContent()) ?? '';
    }
    const seq = Number(((await page.locator('[data-stat="seq"]').textContent()) ?? '').replaceAll(',', ''));
    assert.ok(seq > 130 && seq <= h.srv.server.orders.position.seq, `seq ${seq}`);
  });
});

describe('tracking links that lead nowhere', () => {
  test('a well-formed but unknown token gets a friendly page at once and never tries to connect', async () => {
    h.allowErrors(/status of 404/);
    const page = await h.freshPage();
    let sockets = 0;
    page.on('websocket', () => sockets++);
    await page.goto(`${h.pageUrl}track/${'A'.repeat(22)}`);
    await page.locator('h1', { hasText: 'This link does not lead to an order' }).waitFor();
    assert.equal(await page.locator('#connection').isVisible(), false, 'no endless "Connecting…"');
    assert.equal(sockets, 0);
  });

  test('a tracked order that is deleted says it is no longer available', async () => {
    h.allowErrors(/status of 404/);
    const order = await h.createOrder('Soon Gone');
    const page = await h.freshPage();
    await page.goto(`${h.pageUrl}track/${order.trackingToken}`);
    await page.locator('#stepper li[aria-current="step"]').waitFor();
    assert.equal((await request(h.srv.base, 'DELETE', `/api/orders/${order.id}`)).status, 204);
    await page.locator('h1', { hasText: 'This order is no longer available' }).waitFor();
    assert.equal(await page.locator('#connection').isVisible(), false);
  });

  test('a malformed tracking link, or any unknown page a browser asks for, is a friendly HTML 404; API clients keep problem+json', async () => {
    for (const path of ['/track/xyz', `/track/${'A'.repeat(21)}`, '/track/']) {
      const res = await fetch(h.srv.base + path, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.match(await res.text(), /This page does not exist/);
    }
    const browser = await fetch(`${h.srv.base}/no-such-page`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(browser.status, 404);
    assert.match(browser.headers.get('content-type') ?? '', /^text\/html/);
    const script = await fetch(`${h.srv.base}/no-such-page`);
    assert.equal(script.status, 404);
    assert.match(script.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await fetch(`${h.srv.base}/track/xyz`, { method: 'POST' })).status, 404);
  });
});
