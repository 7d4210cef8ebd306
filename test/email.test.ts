/**
 * Customer emails through a real SMTP server (smtp-server on an ephemeral
 * port) read back with mailparser: both parts, the headers, the links,
 * escaping, one-click unsubscribe, 451 retried, 550 given up, and
 * nodemailer not loaded without SMTP_URL.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { composeEmail } from '../src/notify/email/compose.ts';
import { isOneClick } from '../src/transport/http/emails.ts';
import type { EmailAttempt } from '../src/notify/email/notifier.ts';
import { emailSettingsFromEnv, type EmailSettings } from '../src/notify/email/settings.ts';
import type { CreatedOrder } from '../src/protocol.ts';
import { request, startServer, waitFor } from './helpers.ts';
import { startSmtpSink } from './smtp-sink.ts';

const sink = await startSmtpSink();
after(sink.close);

function settings(env: Record<string, string> = {}): EmailSettings {
  const parsed = emailSettingsFromEnv({ SMTP_URL: sink.url, MAIL_FROM: '"Test Shop" <orders@shop.example>', PUBLIC_URL: 'https://shop.example/', EMAIL_RETRY_SCHEDULE: '0.2,0.3', ...env });
  assert.ok(parsed.ok && parsed.value !== undefined, parsed.ok ? 'no settings' : parsed.error);
  return parsed.value;
}

const attempts: EmailAttempt[] = [];
const srv = await startServer({ email: settings(), shopName: 'Test Shop', onEmailAttempt: (a) => attempts.push(a) });
after(srv.close);

async function create(customerName: string, customerEmail: string): Promise<CreatedOrder> {
  const res = await request(srv.base, 'POST', '/api/orders', { customerName, customerEmail, items: [{ name: 'keyboard & mouse', quantity: 2, price: 24.5 }, { name: '<b>bold</b>', quantity: 1, price: 1 }] });
  assert.equal(res.status, 201, res.text);
  return res.body as CreatedOrder;
}

async function move(id: string, status: string): Promise<void> {
  const res = await request(srv.base, 'PATCH', `/api/orders/${id}/status`, { status });
  assert.equal(res.status, 200, res.text);
}

function mailsTo(address: string): ParsedMail[] {
  return sink.received.filter((mail) => mail.headers.get('message-id') !== undefined && JSON.stringify(mail.to).includes(address));
}

function header(mail: ParsedMail, name: string): string {
  const value = mail.headerLines.find((line) => line.key === name)?.line ?? '';
  return value.slice(value.indexOf(':') + 1).replace(/\r?\n\s+/g, ' ').trim();
}

describe('what arrives', () => {
  test('the order received: both parts, escaped name, total, tracking link, headers', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const order = await create(name, 'ada@example.com');
    await sink.until(() => mailsTo('ada@example.com').length === 1, 'the first email');
    const mail = mailsTo('ada@example.com')[0]!;
    assert.equal(mail.subject, 'Test Shop: We have received your order');
    assert.equal(mail.from?.value[0]?.address, 'orders@shop.example');
    assert.equal(mail.messageId, `<order-${order.id}.v1@shop.example>`);
    assert.equal(header(mail, 'auto-submitted'), 'auto-generated');
    assert.equal(header(mail, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    const unsubscribe = header(mail, 'list-unsubscribe');
    assert.match(unsubscribe, /^<mailto:orders@shop\.example\?subject=unsubscribe%20[0-9a-f-]{36}>, <https:\/\/shop\.example\/api\/email\/unsubscribe\/[^>]+>$/);
    const tracking = `https://shop.example/track/${order.trackingToken}`;
    assert.ok(typeof mail.text === 'string' && typeof mail.html === 'string', 'a text part and an HTML part');
    assert.ok(mail.text.includes(`Hello ${name},`), 'the text part has the name as it is');
    assert.ok(mail.text.includes('Status: pending') && mail.text.includes('2 x keyboard & mouse') && mail.text.includes('Total: 50.00'));
    assert.ok(mail.text.includes(tracking));
    assert.ok(!mail.html.includes('<img') && !mail.html.includes('<b>bold'), 'no markup from the order reaches the HTML');
    assert.ok(mail.html.includes('&lt;img src=x onerror=alert(1)&gt;') && mail.html.includes('&lt;b&gt;bold&lt;/b&gt;') && mail.html.includes('keyboard &amp; mouse'));
    assert.ok(mail.html.includes(`href="${tracking}"`));
    assert.ok(mail.html.includes('50.00'));
    await waitFor(() => attempts.some((a) => a.orderId === order.id && a.outcome === 'sent'), 'the sender told of the 250');
    const emails = await request(srv.base, 'GET', `/api/orders/${order.id}/emails`);
    assert.equal(emails.status, 200);
    const record = (emails.body as { emails: { status: string; outcome: string; attempts: number; at: string }[] }).emails;
    assert.equal(record.length, 1);
    assert.deepEqual([record[0]!.status, record[0]!.outcome, record[0]!.attempts], ['pending', 'sent', 1]);
  });

  test('only EMAIL_ON statuses send; shipped reads "on its way" with version 3 in its Message-ID', async () => {
    const order = await create('Grace', 'grace@example.com');
    await move(order.id, 'processing');
    await move(order.id, 'shipped');
    await sink.until(() => mailsTo('grace@example.com').length === 2, 'two emails');
    const [first, second] = mailsTo('grace@example.com');
    assert.equal(first!.subject, 'Test Shop: We have received your order');
    assert.equal(second!.subject, 'Test Shop: Your order is on its way');
    assert.equal(second!.messageId, `<order-${order.id}.v3@shop.example>`);
    assert.ok(sink.received.every((mail) => !(mail.subject ?? '').includes('preparing')), 'processing is not in the default EMAIL_ON');
  });

  test('an order without an address sends nothing, and the record says so', async () => {
    const res = await request(srv.base, 'POST', '/api/orders', { customerName: 'No Mail', items: ['x'] });
    assert.equal(res.status, 201);
    const id = (res.body as CreatedOrder).id;
    await create('Later', 'later@example.com');
    await sink.until(() => mailsTo('later@example.com').length === 1, 'a later email');
    assert.deepEqual((await request(srv.base, 'GET', `/api/orders/${id}/emails`)).body, { orderId: id, enabled: true, emails: [] });
  });
});

describe('catalog lines', () => {
  test('an order of products lists them with their prices and the total', async () => {
    const product = await request(srv.base, 'POST', '/api/products', { sku: 'LAMP', name: 'Desk <lamp>', priceCents: 4550, stock: 10 });
    assert.equal(product.status, 201, product.text);
    const res = await request(srv.base, 'POST', '/api/orders', { customerName: 'Catalog', customerEmail: 'catalog@example.com', items: [], lines: [{ sku: 'LAMP', quantity: 2 }] });
    assert.equal(res.status, 201, res.text);
    await sink.until(() => mailsTo('catalog@example.com').length === 1, 'the email');
    const mail = mailsTo('catalog@example.com')[0]!;
    assert.ok(typeof mail.text === 'string' && mail.text.includes('2 x Desk <lamp>  91.00') && mail.text.includes('Total: 91.00'), String(mail.text));
    assert.ok(typeof mail.html === 'string' && mail.html.includes('2 x Desk &lt;lamp&gt;') && mail.html.includes('91.00'));
  });
});

describe('refusals', () => {
  test('a 451 is retried after the schedule and then sent', async () => {
    sink.rules.set('busy@example.com', { kind: 'temporary', times: 2 });
    const order = await create('Busy', 'busy@example.com');
    await sink.until(() => mailsTo('busy@example.com').length === 1, 'the email after two 451s');
    // The sink has it before the sender has the server's answer.
    await waitFor(() => attempts.some((a) => a.orderId === order.id && a.outcome === 'sent'), 'the sender told of the 250');
    assert.equal(sink.tries.get('busy@example.com'), 3);
    assert.deepEqual(attempts.filter((a) => a.orderId === order.id).map((a) => [a.outcome, a.code]), [['retry', 451], ['retry', 451], ['sent', undefined]]);
    const record = (await request(srv.base, 'GET', `/api/orders/${order.id}/emails`)).body as { emails: { outcome: string; attempts: number }[] };
    assert.deepEqual(record.emails.map((e) => [e.outcome, e.attempts]), [['sent', 3]]);
  });

  test('a 550 is given up at once and recorded with the reply', async () => {
    sink.rules.set('gone@example.com', { kind: 'permanent' });
    const order = await create('Gone', 'gone@example.com');
    await waitFor(() => attempts.some((a) => a.orderId === order.id), 'the attempt');
    assert.deepEqual(attempts.filter((a) => a.orderId === order.id).map((a) => [a.outcome, a.code]), [['failed', 550]]);
    assert.equal(sink.tries.get('gone@example.com'), 1);
    const record = (await request(srv.base, 'GET', `/api/orders/${order.id}/emails`)).body as { emails: { outcome: string; reply: string }[] };
    assert.equal(record.emails[0]!.outcome, 'failed');
    assert.match(record.emails[0]!.reply, /550.*mailbox unavailable/);
  });

  test('past the schedule a 451 is given up too', async () => {
    sink.rules.set('full@example.com', { kind: 'temporary', times: 100 });
    const order = await create('Full', 'full@example.com');
    await waitFor(() => attempts.some((a) => a.orderId === order.id && a.outcome === 'failed'), 'giving up');
    assert.deepEqual(attempts.filter((a) => a.orderId === order.id).map((a) => a.outcome), ['retry', 'retry', 'failed']);
  });

  test('every attempt is counted in /metrics by outcome', async () => {
    const counted = async (): Promise<Record<string, number>> => {
      const text = (await request(srv.base, 'GET', '/metrics')).text;
      const counts: Record<string, number> = {};
      for (const m of text.matchAll(/^liveorders_email_attempts_total\{outcome="(\w+)"\} (\d+)$/gm)) counts[m[1]!] = Number(m[2]);
      return counts;
    };
    const before = await counted();
    sink.rules.set('metered@example.com', { kind: 'temporary', times: 1 });
    const order = await create('Metered', 'metered@example.com');
    await waitFor(() => attempts.some((a) => a.orderId === order.id && a.outcome === 'sent'), 'the email after one 451');
    const after = await counted();
    assert.equal((after.retry ?? 0) - (before.retry ?? 0), 1, JSON.stringify({ before, after }));
    assert.equal((after.sent ?? 0) - (before.sent ?? 0), 1, JSON.stringify({ before, after }));
  });
});

describe('one-click unsubscribe', () => {
  test('GET shows a confirm page and changes nothing; POST unsubscribes; later statuses send nothing', async () => {
    const order = await create('Leaving', 'leaving@example.com');
    await sink.until(() => mailsTo('leaving@example.com').length === 1, 'the first email');
    const link = /<(https:\/\/shop\.example[^>]+)>/.exec(header(mailsTo('leaving@example.com')[0]!, 'list-unsubscribe'))![1]!;
    const path = new URL(link).pathname;
    const page = await request(srv.base, 'GET', path);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.text, /<form method="post"/);
    assert.match(page.text, /name="List-Unsubscribe" value="One-Click"/);
    await move(order.id, 'processing');
    await move(order.id, 'shipped');
    await sink.until(() => mailsTo('leaving@example.com').length === 2, 'the GET did not unsubscribe');
    const refused = await request(srv.base, 'POST', path, 'something=else', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(refused.status, 400);
    const forged = await request(srv.base, 'POST', `${path.slice(0, -3)}AAA`, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(forged.status, 404);
    const done = await request(srv.base, 'POST', path, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(done.status, 200, done.text);
    const before = sink.received.length;
    await move(order.id, 'delivered');
    await create('After', 'after@example.com');
    await sink.until(() => mailsTo('after@example.com').length === 1, 'a later email');
    assert.equal(mailsTo('leaving@example.com').length, 2, 'no email after unsubscribing, and no confirmation email');
    assert.equal(sink.received.length, before + 1);
  });
});

describe('the one-click body', () => {
  test('taken as a form or as multipart/form-data (RFC 8058 recommends the latter); anything else is not one click', () => {
    assert.equal(isOneClick('application/x-www-form-urlencoded', 'List-Unsubscribe=One-Click'), true);
    assert.equal(isOneClick(undefined, 'List-Unsubscribe=One-Click'), true);
    const multipart = '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n';
    assert.equal(isOneClick('multipart/form-data; boundary=XyZ', multipart), true);
    assert.equal(isOneClick('multipart/form-data; boundary="XyZ"', multipart), true);
    assert.equal(isOneClick('multipart/form-data; boundary=XyZ', multipart.replace('One-Click', 'Two-Clicks')), false);
    assert.equal(isOneClick('application/x-www-form-urlencoded', 'List-Unsubscribe=Maybe'), false);
  });

  test('a multipart POST to the link unsubscribes over HTTP', async () => {
    const order = await create('Multipart', 'multipart@example.com');
    await sink.until(() => mailsTo('multipart@example.com').length === 1, 'the first email');
    const link = /<(https:\/\/shop\.example[^>]+)>/.exec(header(mailsTo('multipart@example.com')[0]!, 'list-unsubscribe'))![1]!;
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(srv.base + new URL(link).pathname, { method: 'POST', body: form });
    assert.equal(res.status, 200, await res.text());
    await move(order.id, 'cancelled');
    await create('After Multipart', 'later-mp@example.com');
    await sink.until(() => mailsTo('later-mp@example.com').length === 1, 'a later email');
    assert.equal(mailsTo('multipart@example.com').length, 1);
  });
});

describe('header injection', () => {
  test('a subject or name with line breaks cannot add a header', () => {
    const email = composeEmail(
      { id: '01890a5d-ac96-774b-bcce-b302099a8057', customerName: 'A\r\nBcc: eve@example.com', customerEmail: 'a@example.com', items: [{ name: 'x', quantity: 1 }], status: 'pending', history: [], version: 1, createdAt: '', updatedAt: '' },
      { shopName: 'Shop\r\nBcc: eve@example.com', from: 'orders@shop.example', fromAddress: 'orders@shop.example', trackingUrl: 'https://s/track/t', unsubscribeUrl: 'https://s/u' },
    );
    assert.ok(!/[\r\n]/.test(email.subject));
    for (const value of Object.values(email.headers)) assert.ok(!/[\r\n]/.test(value));
  });
});

describe('without SMTP_URL', () => {
  test('nodemailer is never loaded and the start-up log says so once', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { createServer } = await import('./src/server.ts');
      const { configFromEnv } = await import('./src/config.ts');
      const lines = [];
      const logger = { debug() {}, info(m) { lines.push(m); }, warn(m) { lines.push(m); }, error(m) { lines.push(m); }, child() { return logger; } };
      const config = configFromEnv({ PORT: '0' });
      const server = createServer({ ...config.value.options, port: 0, logger });
      await server.listen();
      await fetch('http://127.0.0.1:' + server.http.address().port + '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerName: 'A', customerEmail: 'a@example.com', items: ['x'] }) });
      await server.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules[\\\\/]nodemailer[\\\\/]/.test(k));
      console.log(JSON.stringify({ loaded: loaded.length, off: lines.filter((l) => /customer emails are off/.test(l)).length }));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim()), { loaded: 0, off: 1 });
  });
});

describe('the outbox', () => {
  test('an email waiting for a retry does not hold back the next customers\' emails', async (t) => {
    const slowServer = await startServer({ email: settings({ EMAIL_RETRY_SCHEDULE: '30' }) });
    t.after(slowServer.close);
    sink.rules.set('slow@example.com', { kind: 'temporary', times: 1 });
    const post = async (name: string, email: string): Promise<string> => {
      const res = await request(slowServer.base, 'POST', '/api/orders', { customerName: name, customerEmail: email, items: ['x'] });
      assert.equal(res.status, 201, res.text);
      return (res.body as CreatedOrder).id;
    };
    await post('Slow', 'slow@example.com');
    await waitFor(() => sink.tries.get('slow@example.com') === 1, 'the first try, refused with 451');
    await post('Fast', 'fast@example.com');
    await sink.until(() => mailsTo('fast@example.com').length === 1, 'the next email, without waiting 30 s for the retry');
    assert.equal(mailsTo('slow@example.com').length, 0, 'the refused one waits in the outbox');
  });
});
