/**
 * The order dialog says what was emailed to the customer and when
 * ("emailed: shipped, 10:42"), and what was given up with the server's
 * reply ("failed: pending, 550 mailbox unavailable"), in Chromium, with a
 * real SMTP server behind.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { emailSettingsFromEnv } from '../src/notify/email/settings.ts';
import type { CreatedOrder } from '../src/protocol.ts';
import { request } from './helpers.ts';
import { usePageHarness } from './page-harness.ts';
import { startSmtpSink } from './smtp-sink.ts';

const sink = await startSmtpSink();
after(sink.close);
const settings = emailSettingsFromEnv({ SMTP_URL: sink.url, MAIL_FROM: 'orders@shop.example', PUBLIC_URL: 'http://localhost:8000', EMAIL_RETRY_SCHEDULE: '0.1' });
assert.ok(settings.ok && settings.value !== undefined);
const h = usePageHarness({ email: settings.value });

async function create(name: string, email: string): Promise<CreatedOrder> {
  const res = await request(h.srv.base, 'POST', '/api/orders', { customerName: name, customerEmail: email, items: ['kettle'] });
  assert.equal(res.status, 201, res.text);
  return res.body as CreatedOrder;
}

describe('emails in the order dialog', () => {
  test('sent emails are listed with their status and time, and a new one appears after a change', async () => {
    const order = await create('Mailed', 'mailed@example.com');
    await sink.until(() => sink.received.some((m) => m.messageId === `<order-${order.id}.v1@shop.example>`), 'the first email');
    const page = await h.openBoard(`#/orders/${order.id}`);
    const lines = page.locator('#detail .emails li');
    await lines.first().waitFor();
    assert.match((await lines.first().textContent()) ?? '', /^emailed: pending, \S+/);
    const moved = await request(h.srv.base, 'PATCH', `/api/orders/${order.id}/status`, { status: 'shipped' });
    assert.equal(moved.status, 200);
    await page.locator('#detail .emails li', { hasText: 'emailed: shipped,' }).waitFor({ timeout: 15_000 });
    assert.equal(await lines.count(), 2);
  });

  test('a given-up email shows the reply', async () => {
    sink.rules.set('bounce@example.com', { kind: 'permanent' });
    const order = await create('Bounce', 'bounce@example.com');
    const page = await h.openBoard(`#/orders/${order.id}`);
    await page.locator('#detail .emails li[data-outcome="failed"]', { hasText: /failed: pending, 550.*mailbox unavailable/ }).waitFor({ timeout: 15_000 });
  });
});
