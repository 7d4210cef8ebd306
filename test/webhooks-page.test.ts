/**
 * The admin's Webhooks panel in Chromium: add an endpoint (its secret
 * shown once, with a copy button), see its state and last attempts' status
 * codes, retry a failed delivery, disable, delete; axe finds nothing
 * serious.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_WEBHOOK_SETTINGS } from '../src/notify/webhooks/settings.ts';
import { request } from './helpers.ts';
import { assertNoSeriousAxeViolations, usePageHarness } from './page-harness.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

// No retries: a 500 leaves a failed delivery for the Retry button.
const h = usePageHarness({ webhooks: { settings: { ...DEFAULT_WEBHOOK_SETTINGS, allowPrivate: true, retryScheduleMs: [], timeoutMs: 5000 } } });
let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.close());

describe('the Webhooks panel', () => {
  test('add, see attempts, retry, disable and delete an endpoint', async () => {
    receiver.reply = () => ({ status: 500 });
    const page = await h.openBoard('', { bypassCSP: true, permissions: ['clipboard-read', 'clipboard-write'] });
    const panel = page.locator('#webhooks');
    await panel.waitFor();
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = page.locator('#webhook-secret-value');
    await secret.waitFor();
    const shown = (await secret.textContent()) ?? '';
    assert.match(shown, /^whsec_[A-Za-z0-9+/]+=*$/);
    receiver.secrets = [shown];
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.locator('#webhook-status', { hasText: 'Secret copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown);
    const [listed] = (await request(h.srv.base, 'GET', '/api/webhooks')).body as { id: string; url: string }[];
    assert.equal(listed!.url, receiver.url);

    await h.createOrder('Hooked');
    await receiver.until((got) => got.length >= 1);
    assert.deepEqual(receiver.received[0]!.verified, [true]);
    const item = panel.locator(`li[data-webhook-id="${listed!.id}"]`);
    await item.locator('.webhook-state', { hasText: /^enabled · backlog 0 · last: 500$/ }).waitFor({ timeout: 15_000 });
    await assertNoSeriousAxeViolations(page, 'the board with the Webhooks panel');

    receiver.reply = () => ({ status: 204 });
    await item.getByRole('button', { name: `Retry the last failed delivery to ${receiver.url}` }).click();
    await page.locator('#webhook-status', { hasText: 'Delivery sent again.' }).waitFor();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1]!.id, receiver.received[0]!.id, 'the retry carries the same webhook-id');
    await item.locator('.webhook-state', { hasText: 'last: 204' }).waitFor();

    await item.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    await item.locator('.webhook-state', { hasText: /^disabled \(manual\)/ }).waitFor();
    assert.equal(((await request(h.srv.base, 'GET', `/api/webhooks/${listed!.id}`)).body as { enabled: boolean }).enabled, false);

    await item.getByRole('button', { name: `Delete ${receiver.url}` }).click();
    await item.waitFor({ state: 'detached' });
    assert.deepEqual((await request(h.srv.base, 'GET', '/api/webhooks')).body, []);
  });
});
