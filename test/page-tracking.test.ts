/**
 * The customer tracking page once the order is done, and the shop's name on
 * it: a closing message instead of "keep it open" after delivery or
 * cancellation, "Delivered" drawn as a filled step, and `SHOP_NAME` shown
 * (escaped) in the header and the title, in Chromium; `SHOP_NAME` read and
 * checked from the environment.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { configFromEnv } from '../src/config.ts';
import { request, startServer } from './helpers.ts';
import { assertNoSeriousAxeViolations, screenshot, usePageHarness } from './page-harness.ts';

const h = usePageHarness();
const KEEP_OPEN = 'This page updates by itself: keep it open to follow your order.';

async function move(base: string, id: string, status: string): Promise<void> {
  const res = await request(base, 'PUT', `/api/orders/${id}/status`, { status });
  assert.equal(res.status, 200, res.text);
}

/** Background colours of a step's dot and of the page's surface. */
function dotColours(page: Page, step: string): Promise<{ dot: string; surface: string; done: string | undefined }> {
  return page.evaluate((name) => {
    const dot = document.querySelector(`#stepper li[data-step="${name}"] .step-dot`)!;
    const done = document.querySelector('#stepper li.step-done .step-dot');
    return {
      dot: getComputedStyle(dot).backgroundColor,
      surface: getComputedStyle(document.querySelector('.track-card')!).backgroundColor,
      done: done === null ? undefined : getComputedStyle(done).backgroundColor,
    };
  }, step);
}

describe('the tracking page when the order is done', () => {
  test('followed live to delivery: the hint turns into a closing message and "Delivered" is drawn filled', async () => {
    const order = await h.createOrder('Happy Ending', [{ name: 'kettle', quantity: 1, price: 30 }]);
    const page = await h.freshPage();
    await page.goto(`${h.pageUrl}track/${order.trackingToken}`);
    await page.locator('#stepper li[aria-current="step"][data-step="pending"]').waitFor();
    assert.equal(await page.locator('#track-hint').textContent(), KEEP_OPEN, 'while it may change, the page says to keep it open');
    const pending = await dotColours(page, 'pending');
    assert.equal(pending.dot, pending.surface, 'the current step of an open order is a ring');

    await move(h.srv.base, order.id, 'shipped');
    await move(h.srv.base, order.id, 'delivered');
    await page.locator('#stepper li[aria-current="step"][data-step="delivered"]').waitFor();
    await page.locator('#track-hint', { hasText: 'Your order has arrived, so this page will not change any more.' }).waitFor();
    assert.doesNotMatch((await page.locator('#track-order').textContent()) ?? '', /keep it open/);
    const delivered = await dotColours(page, 'delivered');
    assert.notEqual(delivered.dot, delivered.surface, 'not an open ring');
    assert.equal(delivered.dot, delivered.done, 'filled like the steps already done');
    assert.match((await page.locator('#stepper li[data-step="delivered"]').textContent()) ?? '', /\(done\)/, 'and said to be done, not "now"');
    await screenshot(page, 'tracking-delivered');
  });

  test('a cancelled order says the page will not change any more', async () => {
    const order = await h.createOrder('Sad Ending');
    await move(h.srv.base, order.id, 'cancelled');
    const page = await h.freshPage();
    await page.goto(`${h.pageUrl}track/${order.trackingToken}`);
    await page.locator('#track-cancelled').waitFor();
    assert.equal(await page.locator('#track-hint').textContent(), 'This order is closed, so this page will not change any more.');
  });

  test('without SHOP_NAME the page says "Order tracking"', async () => {
    const order = await h.createOrder('No Shop Name');
    const page = await h.freshPage();
    await page.goto(`${h.pageUrl}track/${order.trackingToken}`);
    await page.locator('#stepper li').first().waitFor();
    assert.equal(await page.locator('#track-brand').textContent(), 'Order tracking');
    assert.match(await page.title(), / · Order tracking$/);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`with SHOP_NAME the shop's name is in the header and the title, as text (${colorScheme}); axe finds nothing serious`, async (t) => {
      const shop = await startServer({ shopName: 'Ada & <Sons> "Tea"' });
      t.after(shop.close);
      const created = await request(shop.base, 'POST', '/api/orders', { customerName: 'Shop Customer', items: ['tea'] });
      assert.equal(created.status, 201);
      const { id, trackingToken } = created.body as { id: string; trackingToken: string };
      await move(shop.base, id, 'shipped');
      await move(shop.base, id, 'delivered');
      const page = await h.freshPage({ colorScheme, bypassCSP: true });
      await page.goto(`${shop.base}/track/${trackingToken}`);
      await page.locator('#stepper li[aria-current="step"]').waitFor();
      assert.equal(await page.locator('#track-brand').textContent(), 'Ada & <Sons> "Tea"');
      assert.equal(await page.locator('#track-brand').evaluate((el) => el.childElementCount), 0, 'no markup from the name');
      assert.match(await page.title(), / · Ada & <Sons> "Tea"$/);
      await assertNoSeriousAxeViolations(page, `the tracking page with a shop name (${colorScheme})`);
      // Another server in the same process without a name keeps its own page (the built pages are cached per process).
      const plain = await fetch(`${h.srv.base}/track/${trackingToken}`);
      assert.match(await plain.text(), />Order tracking</);
    });
  }
});

describe('SHOP_NAME', () => {
  test('is read from the environment, trimmed; absent or empty means none; too long or multi-line is refused', () => {
    const read = configFromEnv({ SHOP_NAME: '  Corner Shop  ' });
    assert.ok(read.ok);
    assert.equal(read.value.options.shopName, 'Corner Shop');
    const none = configFromEnv({ SHOP_NAME: '' });
    assert.ok(none.ok);
    assert.equal(none.value.options.shopName, undefined);
    for (const bad of ['x'.repeat(101), 'two\nlines']) {
      const refused = configFromEnv({ SHOP_NAME: bad });
      assert.ok(!refused.ok);
      assert.match(refused.error, /^SHOP_NAME must be at most 100 characters on one line/);
    }
  });

  test('createServer refuses a shop name with control characters', async () => {
    await assert.rejects(startServer({ shopName: 'bell\u0007' }), /shopName must be at most 100 characters without control characters/);
  });
});
