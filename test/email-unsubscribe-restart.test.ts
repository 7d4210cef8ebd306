/**
 * An unsubscribe survives a restart: kept in DATA_DIR with the journal, so
 * after the server is stopped and started on the same folder, a later
 * status of that order sends nothing, while other orders still get theirs.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { emailSettingsFromEnv } from '../src/notify/email/settings.ts';
import type { CreatedOrder } from '../src/protocol.ts';
import { openStorage } from '../src/store.ts';
import { captureLogger, request, startServer, type TestServer } from './helpers.ts';
import { startSmtpSink } from './smtp-sink.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'liveorders-unsubscribe-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const sink = await startSmtpSink();
after(sink.close);
const settings = emailSettingsFromEnv({ SMTP_URL: sink.url, MAIL_FROM: 'orders@shop.example', PUBLIC_URL: 'http://localhost:8000', EMAIL_RETRY_SCHEDULE: '0.1' });
assert.ok(settings.ok && settings.value !== undefined);
const email = settings.value;

async function start(): Promise<TestServer> {
  const storage = await openStorage({ mode: 'journal', dataDir, logger: captureLogger().logger });
  return startServer({ storage, email });
}

function arrived(id: string, version: number): boolean {
  return sink.received.some((m) => m.messageId === `<order-${id}.v${version}@shop.example>`);
}

test('unsubscribed before a restart, still unsubscribed after it', async () => {
  const first = await start();
  const res = await request(first.base, 'POST', '/api/orders', { customerName: 'Leaving', customerEmail: 'leaving@example.com', items: ['x'] });
  assert.equal(res.status, 201);
  const order = res.body as CreatedOrder;
  await sink.until(() => arrived(order.id, 1), 'the first email');
  const link = /<(http:\/\/localhost:8000[^>]+)>/.exec(sink.received.find((m) => m.messageId?.includes(order.id))!.headerLines.find((l) => l.key === 'list-unsubscribe')!.line.replace(/\r?\n\s+/g, ' '))![1]!;
  const done = await request(first.base, 'POST', new URL(link).pathname, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(done.status, 200, done.text);
  await first.close();

  const second = await start();
  try {
    assert.equal((await request(second.base, 'PATCH', `/api/orders/${order.id}/status`, { status: 'cancelled' })).status, 200);
    const other = await request(second.base, 'POST', '/api/orders', { customerName: 'Staying', customerEmail: 'staying@example.com', items: ['x'] });
    const otherId = (other.body as CreatedOrder).id;
    await sink.until(() => arrived(otherId, 1), 'the email about the later order');
    assert.equal(arrived(order.id, 2), false, 'no email about the unsubscribed order after the restart');
    const listed = await request(second.base, 'GET', `/api/orders/${order.id}/emails`);
    assert.deepEqual((listed.body as { emails: { status: string; outcome: string }[] }).emails.map((e) => [e.status, e.outcome]), [['pending', 'sent']], 'what was emailed before the restart is still listed');
  } finally {
    await second.close();
  }
});
