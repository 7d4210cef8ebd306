/**
 * The board's operator tools in Chromium: selecting cards with the keyboard
 * and moving them all at once (with a result summary), the "watching" line
 * of an order's detail (live as a customer opens the tracking page), and
 * the admin panel's numbers; axe finds nothing serious with all of them
 * showing.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Order, PresenceAnswer, Role } from '../src/protocol.ts';
import { request, startServer } from './helpers.ts';
import { assertNoSeriousAxeViolations, screenshot, usePageHarness } from './page-harness.ts';

const h = usePageHarness();

async function serverOrder(id: string): Promise<Order> {
  return (await request(h.srv.base, 'GET', `/api/orders/${id}`)).body as Order;
}

async function presence(id: string): Promise<PresenceAnswer['watching']> {
  return ((await request(h.srv.base, 'GET', `/api/orders/${id}/presence`)).body as PresenceAnswer).watching;
}

/** Poll the server until `check` holds (what the page did reaches it over the network). */
async function serverEventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function card(page: Page, id: string) {
  return page.locator(`#orders .card[data-order-id="${id}"]`);
}

describe('operator tools on the board', () => {
  test('select cards with the keyboard, then "Mark shipped": each moves, with a summary', async () => {
    const [a, b, c] = [await h.createOrder('Bulk Ada'), await h.createOrder('Bulk Bob'), await h.createOrder('Bulk Cy')];
    const page = await h.openBoard('', { bypassCSP: true });
    await card(page, c.id).waitFor();
    assert.equal(await page.locator('#bulk-bar').isHidden(), true, 'no bar while nothing is selected');
    for (const order of [a, b]) {
      const box = card(page, order.id).locator('input.select-card');
      assert.match((await box.getAttribute('aria-label')) ?? '', /^Select order \w+ for/);
      await box.focus();
      await page.keyboard.press('Space');
      assert.equal(await box.isChecked(), true);
    }
    await page.locator('#bulk-bar').waitFor();
    assert.equal(await page.locator('#bulk-count').textContent(), '2 orders selected');
    // Only the moves the selected orders can make are offered.
    const offered = await page.locator('#bulk-moves button:not([hidden])').allTextContents();
    assert.deepEqual(offered, ['Start processing', 'Mark shipped', 'Mark delivered', 'Cancel']);
    await assertNoSeriousAxeViolations(page, 'the board with two cards selected');
    const ship = page.locator('#bulk-moves button[data-bulk-status="shipped"]');
    await ship.focus();
    await page.keyboard.press('Enter');
    await page.locator('#bulk-result', { hasText: 'Moved 2 orders to shipped.' }).waitFor();
    assert.equal((await serverOrder(a.id)).status, 'shipped');
    assert.equal((await serverOrder(b.id)).status, 'shipped');
    assert.equal((await serverOrder(c.id)).status, 'pending', 'the unselected card did not move');
    // The moved cards are unselected; the live stream brings their new status.
    await card(page, a.id).locator('.badge', { hasText: 'shipped' }).waitFor();
    assert.equal(await card(page, a.id).locator('input.select-card').isChecked(), false);
    await screenshot(page, 'bulk-moved');

    // "Select all shown", then a move only some can make: the others are left alone and said so.
    await page.locator('#bulk-select-all').waitFor({ state: 'hidden' }).catch(() => undefined);
    await card(page, c.id).locator('input.select-card').check();
    await page.locator('#bulk-select-all').click();
    const selected = await page.locator('#orders input.select-card:checked').count();
    assert.equal(selected, await page.locator('#orders .card').count());
    await page.locator('#bulk-moves button[data-bulk-status="delivered"]').click();
    await page.locator('#bulk-result', { hasText: /^Moved \d+ orders? to delivered\./ }).waitFor();
    for (const order of [a, b, c]) assert.equal((await serverOrder(order.id)).status, 'delivered');
    await page.locator('#bulk-clear').click().catch(() => undefined);
  });

  test('the compact board has the checkbox in every row, the badge clear of the name, and moves the selection', async () => {
    const moving = await h.createOrder('Compact Bulk One');
    const other = await h.createOrder('Compact Bulk Two');
    // The longest badge, to check the first column holds checkbox, id and badge.
    for (const order of [moving, other]) await request(h.srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' });
    for (const width of [1180, 1280]) {
      const page = await h.openBoard('?view=compact', { viewport: { width, height: 800 } });
      await card(page, other.id).locator('.badge', { hasText: 'processing' }).waitFor();
      const rows = await page.locator('#orders .card').evaluateAll((cards) => cards.map((c) => {
        const box = c.querySelector('input.select-card')!.getBoundingClientRect();
        const badge = c.querySelector('.badge')!.getBoundingClientRect();
        const name = c.querySelector('.customer')!.getBoundingClientRect();
        return { id: c.getAttribute('data-order-id'), checkbox: box.width > 0 && box.height > 0, badgeRight: badge.right, nameLeft: name.left };
      }));
      for (const row of rows) {
        assert.ok(row.checkbox, `row ${row.id} shows its checkbox at ${width} px`);
        assert.ok(row.badgeRight <= row.nameLeft, `row ${row.id}: the badge (right ${row.badgeRight}) runs into the name (left ${row.nameLeft}) at ${width} px`);
      }
      if (width === 1280) {
        for (const order of [moving, other]) await card(page, order.id).locator('input.select-card').check();
        await page.locator('#bulk-moves button[data-bulk-status="shipped"]').click();
        await serverEventually(async () => (await serverOrder(moving.id)).status === 'shipped' && (await serverOrder(other.id)).status === 'shipped', 'both rows shipped');
      }
      await page.close();
    }
  });

  test('the detail says who watches the order, and follows a customer opening the tracking page', async () => {
    const order = await h.createOrder('Watched Wanda');
    const page = await h.openBoard('', { bypassCSP: true });
    await card(page, order.id).locator('.order-id').click();
    const line = page.locator('#detail-presence');
    // The board's own socket counts (open mode: as an admin).
    await line.filter({ hasText: 'Watching: 1 admin' }).waitFor();
    assert.deepEqual(await presence(order.id), { admin: 1, operator: 0, viewer: 0, customer: 0 });
    const customer = await h.freshPage();
    await customer.goto(`${h.pageUrl}track/${order.trackingToken}`);
    await serverEventually(async () => (await presence(order.id)).customer === 1, 'the tracking socket counted');
    await line.filter({ hasText: 'Watching: 1 admin, 1 customer' }).waitFor({ timeout: 15_000 });
    await assertNoSeriousAxeViolations(page, 'the detail with its watching line');
    await screenshot(page, 'detail-presence');
    await page.keyboard.press('Escape');
    await serverEventually(async () => (await presence(order.id)).admin === 0, 'the closed detail no longer counted');
    await customer.close();
    await serverEventually(async () => (await presence(order.id)).customer === 0, 'the closed tracking page no longer counted');
  });

  test('the admin panel shows connections by role, events per second, slow clients dropped and storage health', async () => {
    const page = await h.openBoard('', { bypassCSP: true });
    const panel = page.locator('#admin');
    await panel.waitFor();
    await page.locator('#admin [data-admin="connections"]', { hasText: /^\d+ admins? · \d+ operators? · \d+ viewers? · \d+ customers?$/ }).waitFor();
    await page.locator('#admin [data-admin="slow"]', { hasText: /^\d+$/ }).waitFor();
    await page.locator('#admin [data-admin="storage"]', { hasText: /^memory, healthy, not durable/ }).waitFor();
    // The rate needs two polls of the stats.
    await page.locator('#admin [data-admin="rate"]', { hasText: /^\d/ }).waitFor({ timeout: 15_000 });
    const connections = (await page.locator('#admin [data-admin="connections"]').textContent())!;
    assert.ok(Number(connections.split(' ')[0]) >= 1, `this board counts: ${connections}`);
    assert.ok(!/\b1 admins\b/.test(connections), 'one admin is one admin');
    await assertNoSeriousAxeViolations(page, 'the board with the admin panel');
    await screenshot(page, 'admin-panel', true);
  });

  test('the admin panel is for admins only: a viewer and an operator do not get it', async (t) => {
    const tokens: [Role, string][] = [['admin', 'admin-token-0123456789abcdefghij'], ['operator', 'operator-token-0123456789abcdefgh'], ['viewer', 'viewer-token-0123456789abcdefghij']];
    const srv = await startServer({ tokens });
    t.after(srv.close);
    for (const [role, token] of tokens) {
      const page = await h.freshPage();
      // Signed in as the page keeps it: the token in this tab's sessionStorage.
      await page.addInitScript((value) => sessionStorage.setItem('liveorders.token', value), token);
      await page.goto(`${srv.base}/`);
      await page.locator('#connection[data-state="open"]').waitFor();
      // The live numbers come from the same poll as the panel: once they show, the panel has decided.
      await page.locator('#activity [data-stat="connections"]', { hasText: /^\d+$/ }).waitFor();
      assert.equal(await page.locator('#admin').isVisible(), role === 'admin', `the ${role} sees the panel: ${role === 'admin'}`);
      await page.close();
    }
  });
});
