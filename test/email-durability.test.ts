/**
 * Customer emails across kill -9: the email consumer's position is saved
 * only after its emails were accepted, so every email of every order that
 * was answered 2xx arrives, even when the server is killed mid-burst with
 * emails still owed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { pool, request, waitFor } from './helpers.ts';
import { startInstance } from './processes.ts';
import { startSmtpSink } from './smtp-sink.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'liveorders-email-kill-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
// A slow SMTP server: the emails fall behind the creates, so the kill finds some owed.
const sink = await startSmtpSink({ delayMs: 30 });
after(sink.close);

const env = { DATA_DIR: dataDir, SMTP_URL: sink.url, MAIL_FROM: 'orders@shop.example', PUBLIC_URL: 'http://localhost:8000', EMAIL_RETRY_SCHEDULE: '0.1,0.1' };

test('kill -9 in the middle of a burst: every email arrives after the restart', async (t) => {
  const first = await startInstance(env);
  t.after(() => first.child.kill('SIGKILL'));
  const created = new Set<string>();
  let killed = false;
  const burst = pool(
    8,
    Array.from({ length: 400 }, (_, i) => async () => {
      if (killed) return;
      try {
        const res = await request(first.base, 'POST', '/api/orders', { customerName: `Customer ${i}`, customerEmail: `c${i}@example.com`, items: ['x'] });
        if (res.status === 201) created.add((res.body as CreatedOrder).id);
      } catch {
        // the server is gone
      }
    }),
  );
  await waitFor(() => created.size >= 80, 'a burst under way');
  first.child.kill('SIGKILL');
  killed = true;
  await burst;
  await first.exited;
  const arrivedBefore = new Set(sink.received.map((mail) => mail.messageId));
  const owed = [...created].filter((id) => !arrivedBefore.has(`<order-${id}.v1@shop.example>`));
  assert.ok(owed.length > 0, `the kill left emails owed (${created.size} orders, ${arrivedBefore.size} emails)`);

  const second = await startInstance(env);
  t.after(() => second.child.kill('SIGKILL'));
  const expected = [...created].map((id) => `<order-${id}.v1@shop.example>`);
  await waitFor(() => {
    const ids = new Set(sink.received.map((mail) => mail.messageId));
    return expected.every((id) => ids.has(id));
  }, 'every owed email', 60_000);
  const repeats = sink.received.length - new Set(sink.received.map((mail) => mail.messageId)).size;
  t.diagnostic(`${created.size} orders answered 2xx; ${arrivedBefore.size} emails before kill -9, ${owed.length} owed, all arrived after the restart; ${repeats} sent twice (same Message-ID)`);
  // Nothing unasked: every email is for an order that exists.
  for (const mail of sink.received) assert.match(mail.messageId ?? '', /^<order-[0-9a-f-]{36}\.v1@shop\.example>$/);
  second.child.kill('SIGTERM');
  await second.exited;
});

test('an email waiting for a retry survives kill -9: it is in the outbox, not only in memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-email-outbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const slowEnv = { ...env, DATA_DIR: dir, EMAIL_RETRY_SCHEDULE: '2' };
  sink.rules.set('retry@example.com', { kind: 'temporary', times: 1 });
  const first = await startInstance(slowEnv);
  t.after(() => first.child.kill('SIGKILL'));
  const res = await request(first.base, 'POST', '/api/orders', { customerName: 'Retry', customerEmail: 'retry@example.com', items: ['x'] });
  assert.equal(res.status, 201);
  const id = (res.body as CreatedOrder).id;
  // Another order's email after it shows the consumer moved past the refused one (its position saved).
  const next = await request(first.base, 'POST', '/api/orders', { customerName: 'Next', customerEmail: 'next@example.com', items: ['x'] });
  await sink.until((mails) => mails.some((m) => m.messageId === `<order-${(next.body as CreatedOrder).id}.v1@shop.example>`), 'the next email');
  assert.equal(sink.tries.get('retry@example.com'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startInstance(slowEnv);
  t.after(() => second.child.kill('SIGKILL'));
  await sink.until((mails) => mails.some((m) => m.messageId === `<order-${id}.v1@shop.example>`), 'the retried email after the restart');
  second.child.kill('SIGTERM');
  await second.exited;
});
