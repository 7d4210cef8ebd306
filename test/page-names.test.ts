/**
 * Names in Chromium: a name stored before bidi controls were refused (here
 * put in through the commands, past the protocol's validation, as older data
 * would be) shows on the board, in toasts, in the live region and on the
 * customer's tracking page isolated from the sentence around it, and
 * without its controls.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Order } from '../src/protocol.ts';
import { request } from './helpers.ts';
import { usePageHarness } from './page-harness.ts';

const h = usePageHarness();

/** An override that would reverse the rest of the sentence, and an isolate that is never closed. */
const STORED_NAME = '\u202eexe.txt\u2066 Bob';
const SHOWN_NAME = 'exe.txt Bob';
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
/** A right-to-left name: beside the sentence's full stop it would take the stop to its own side unless isolated. */
const RTL_NAME = '\u0633\u0627\u0631\u0629';

async function storedOrder(name: string): Promise<Order> {
  const created = await h.srv.server.commands.create({ customerName: name, items: [{ name: 'lamp\u202e', quantity: 1 }] });
  assert.ok(created.ok);
  return created.value.order;
}

describe('names on the page', () => {
  test('board, toasts, announcements and the tracking page isolate a stored name and drop its bidi controls', async () => {
    const first = await storedOrder(STORED_NAME);
    const page = await h.openBoard();
    const card = page.locator(`.card[data-order-id="${first.id}"]`);
    await card.waitFor();
    const customer = card.locator('.customer');
    assert.equal(await customer.getAttribute('dir'), 'auto', 'the name on its own sets its own direction');
    assert.equal(await customer.textContent(), SHOWN_NAME);
    assert.deepEqual(await card.locator('.lines li bdi').allTextContents(), ['lamp']);
    const label = (await card.locator('button[data-action="move"]').first().getAttribute('aria-label')) ?? '';
    assert.ok(label.endsWith(`for \u2068${SHOWN_NAME}\u2069`), JSON.stringify(label));

    // A new order from elsewhere: its toast and its announcement hold the name in a <bdi>.
    const second = await storedOrder(STORED_NAME);
    await page.locator(`.card[data-order-id="${second.id}"]`).waitFor();
    await page.locator('#toasts bdi', { hasText: SHOWN_NAME }).first().waitFor();
    await page.locator('#announcer bdi', { hasText: SHOWN_NAME }).first().waitFor();
    const shown = await page.evaluate(() => [document.querySelector('#toasts')!.textContent, document.querySelector('#announcer')!.textContent, document.querySelector('#activity-list')!.textContent]);
    for (const text of shown) assert.ok(!BIDI.test(text ?? ''), JSON.stringify(text));

    const token = await request(h.srv.base, 'GET', `/api/orders/${first.id}/tracking-token`);
    assert.equal(token.status, 200, token.text);
    const tracking = await h.freshPage();
    await tracking.goto(`${h.pageUrl}track/${(token.body as { trackingToken: string }).trackingToken}`);
    const lead = tracking.locator('#track-lead bdi');
    await lead.waitFor();
    assert.equal(await lead.textContent(), SHOWN_NAME);
    assert.match((await tracking.locator('#track-lead').textContent()) ?? '', new RegExp(`^Hi ${SHOWN_NAME}, `));
  });

  test('an order created in the form: the notice under the form and the announcement hold a right-to-left name in a <bdi>', async () => {
    const page = await h.openBoard();
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.getByLabel('Customer name').fill(RTL_NAME);
    await page.locator('#item-rows [name="itemName"]').first().fill('teapot');
    await page.getByRole('button', { name: 'Create order' }).click();
    const notice = page.locator('#created-text');
    await notice.locator('bdi', { hasText: RTL_NAME }).waitFor();
    assert.match((await notice.textContent()) ?? '', new RegExp(`^Created order [0-9a-f]{8} for ${RTL_NAME}\\.$`), 'the sentence reads without the marks');
    await page.locator('#announcer bdi', { hasText: RTL_NAME }).waitFor();
  });
});
