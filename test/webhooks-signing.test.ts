/**
 * Webhook signing, sending and address checks, on their own: signatures
 * verified by the `standardwebhooks` package, an attempt against a real
 * receiver (no redirect followed, a timeout, Retry-After read), the
 * sender thread (lower priority, kept connections, cancelling, stopping),
 * and the SSRF refusals.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { isPrivateAddress, resolveTarget, RefusedAddressError } from '../src/notify/webhooks/address-policy.ts';
import { parseEndpointInput, parseEndpointPatch } from '../src/notify/webhooks/input.ts';
import { parseRetryAfter, sendAttempt } from '../src/notify/webhooks/send.ts';
import { SenderThread } from '../src/notify/webhooks/sender-thread.ts';
import { SENDER_THREAD_NICE } from '../src/notify/webhooks/sender-messages.ts';
import { newSecret, signatureHeader } from '../src/notify/webhooks/signature.ts';
import { webhookSettingsFromEnv } from '../src/notify/webhooks/settings.ts';
import { startReceiver } from './webhook-receiver.ts';

describe('webhook signatures', () => {
  it('verify with standardwebhooks, one secret and two (rotation)', () => {
    const [current, previous] = [newSecret(), newSecret()];
    assert.match(current, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: { seq: 1 } });
    const timestamp = Math.floor(Date.now() / 1000);
    const one = signatureHeader([current], 'msg_1', timestamp, body);
    assert.match(one, /^v1,[A-Za-z0-9+/]+=*$/);
    const headers = (signature: string) => ({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature });
    assert.deepEqual(new Webhook(current).verify(body, headers(one)), JSON.parse(body));
    assert.throws(() => new Webhook(previous).verify(body, headers(one)));
    const two = signatureHeader([current, previous], 'msg_1', timestamp, body);
    assert.equal(two.split(' ').length, 2);
    assert.ok(new Webhook(current).verify(body, headers(two)));
    assert.ok(new Webhook(previous).verify(body, headers(two)));
    // A changed body or id fails.
    assert.throws(() => new Webhook(current).verify(`${body} `, headers(two)));
    assert.throws(() => new Webhook(current).verify(body, { ...headers(two), 'webhook-id': 'msg_2' }));
  });
});

describe('webhook target addresses', () => {
  it('refuses loopback, private, link-local, CGNAT, metadata, ULA and mapped addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fc00::5', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe']) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });

  it('resolves names and refuses what they resolve to, unless private targets are allowed', async () => {
    await assert.rejects(resolveTarget('localhost', false), RefusedAddressError);
    await assert.rejects(resolveTarget('[::1]', false), RefusedAddressError);
    await assert.rejects(resolveTarget('169.254.169.254', false), /metadata/);
    const allowed = await resolveTarget('127.0.0.1', true);
    assert.deepEqual(allowed, { address: '127.0.0.1', family: 4 });
  });

  it('an attempt to a refused address connects to nothing', async () => {
    const receiver = await startReceiver();
    after(() => receiver.close());
    const result = await sendAttempt({ url: receiver.url, headers: {}, body: '{}', timeoutMs: 2000, allowPrivate: false });
    assert.equal(result.status, null);
    assert.match(result.error ?? '', /private, loopback/);
    assert.equal(receiver.received.length, 0);
  });
});

describe('one attempt', () => {
  it('posts the body with the headers, reads the status, follows no redirect', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/moved') return void res.writeHead(302, { Location: '/elsewhere' }).end();
      if (req.url === '/busy') return void res.writeHead(503, { 'Retry-After': '7' }).end();
      if (req.url === '/hang') return; // never answers
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => {
      server.closeAllConnections();
      server.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ok = await sendAttempt({ url: `${base}/ok`, headers: { 'webhook-id': 'msg_x' }, body: '{"a":1}', timeoutMs: 5000, allowPrivate: true });
    assert.equal(ok.status, 200);
    assert.equal(ok.error, undefined);
    const moved = await sendAttempt({ url: `${base}/moved`, headers: {}, body: '{}', timeoutMs: 5000, allowPrivate: true });
    assert.equal(moved.status, 302);
    assert.match(moved.error ?? '', /not followed/);
    const busy = await sendAttempt({ url: `${base}/busy`, headers: {}, body: '{}', timeoutMs: 5000, allowPrivate: true });
    assert.equal(busy.status, 503);
    assert.equal(busy.retryAfterMs, 7000);
    const hang = await sendAttempt({ url: `${base}/hang`, headers: {}, body: '{}', timeoutMs: 300, allowPrivate: true });
    assert.equal(hang.status, null);
    assert.match(hang.error ?? '', /within 300 ms/);
    assert.deepEqual(hits, ['/ok', '/moved', '/busy', '/hang']);
  });

  it('caps Retry-After at an hour and reads HTTP dates', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter('999999'), 3600_000);
    const inAMinute = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) ?? 0;
    assert.ok(inAMinute > 55_000 && inAMinute <= 60_000, String(inAMinute));
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('webhook input and settings', () => {
  it('refuses what is not an http(s) URL, unknown events and unknown fields', () => {
    for (const body of [{}, { url: 'ftp://x' }, { url: 'not a url' }, { url: 'https://u:p@example.com/' }, { url: 'https://example.com', events: ['order.exploded'] }, { url: 'https://example.com', events: [] }, { url: 'https://example.com', extra: 1 }, { url: 'https://example.com', description: 5 }, []]) {
      const parsed = parseEndpointInput(body);
      assert.equal(parsed.ok, false, JSON.stringify(body));
      if (!parsed.ok) assert.equal(parsed.error.code, 'LO_ERR_INVALID_FIELD');
    }
    const good = parseEndpointInput({ url: 'https://example.com/hooks' });
    assert.ok(good.ok);
    assert.deepEqual(good.value.events, ['order.created', 'order.status_changed', 'order.deleted']);
    assert.equal(parseEndpointPatch({ enabled: 'yes' }).ok, false);
    assert.deepEqual(parseEndpointPatch({ enabled: false }), { ok: true, value: { enabled: false } });
  });

  it('reads WEBHOOK_* from the environment and refuses bad values', () => {
    const read = webhookSettingsFromEnv({ WEBHOOK_RETRY_SCHEDULE: '0,1,1.5', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_MAX_BACKLOG: '10', WEBHOOK_DISABLE_AFTER_HOURS: '0.5' });
    assert.ok(read.ok);
    assert.deepEqual(read.value, { retryScheduleMs: [0, 1000, 1500], timeoutMs: 2000, allowPrivate: true, maxBacklog: 10, disableAfterMs: 1800_000 });
    for (const env of [{ WEBHOOK_RETRY_SCHEDULE: '5,x' }, { WEBHOOK_TIMEOUT_MS: '-1' }, { WEBHOOK_ALLOW_PRIVATE: 'yes' }, { WEBHOOK_MAX_BACKLOG: '0' }]) {
      assert.equal(webhookSettingsFromEnv(env).ok, false, JSON.stringify(env));
    }
  });
});

/** A server on 127.0.0.1 answering 204 on /ok and never on /hang; counts the connections it accepted. */
async function target(): Promise<{ base: string; connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    if (req.url !== '/hang') res.writeHead(204).end();
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, server };
}

/** The nice value and scheduling policy of each of this process's threads (Linux), from fields 19 and 41 of each thread's stat. */
function threadPriorities(): { nice: number; policy: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count the fields after its closing parenthesis (field 3 on).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { nice: Number(fields[16]), policy: Number(fields[38]) };
  });
}

/** Linux's SCHED_IDLE scheduling policy. */
const SCHED_IDLE = 5;

describe('the sender thread', () => {
  it('sends on a thread of the lowest priority (SCHED_IDLE where chrt exists), over one kept connection per pool', async () => {
    const { base, connections } = await target();
    const errors: Error[] = [];
    const sender = new SenderThread((error) => errors.push(error));
    after(() => sender.stop());
    const request = { url: `${base}/ok`, headers: {}, body: '{}', timeoutMs: 5000, allowPrivate: true };
    for (let i = 0; i < 5; i++) assert.equal((await sender.send(request, 'ep_one')).status, 204);
    assert.equal(connections(), 1, 'one pool, attempts one after another: one connection, kept');
    assert.equal((await sender.send(request)).status, 204);
    assert.equal(connections(), 2, 'without a pool an attempt has a connection of its own');
    if (process.platform === 'linux') {
      const threads = threadPriorities();
      // The runner may itself be niced (then every thread is): tell the sender thread by its policy, or by a nice value below it.
      if (spawnSync('chrt', ['--version']).status === 0) {
        const idle = threads.filter((thread) => thread.policy === SCHED_IDLE);
        assert.equal(idle.length, 1, `one SCHED_IDLE thread: ${JSON.stringify(threads)}`);
        assert.equal(idle[0]!.nice, SENDER_THREAD_NICE);
      }
      if (getPriority() < SENDER_THREAD_NICE) assert.equal(threads.filter((thread) => thread.nice === SENDER_THREAD_NICE).length, 1, `one thread at nice ${SENDER_THREAD_NICE}: ${JSON.stringify(threads)}`);
    }
    sender.closePool('ep_one');
    assert.equal((await sender.send(request, 'ep_one')).status, 204);
    assert.equal(connections(), 3, 'a closed pool opens a new connection');
    assert.deepEqual(errors, []);
  });

  it('ends a cancelled attempt at once, and every attempt in flight when stopped', async () => {
    const { base } = await target();
    const sender = new SenderThread(() => {});
    const hang = { url: `${base}/hang`, headers: {}, body: '{}', timeoutMs: 30_000, allowPrivate: true };
    const abort = new AbortController();
    const cancelled = sender.send({ ...hang, signal: abort.signal }, 'ep_a');
    const inFlight = sender.send(hang, 'ep_b');
    await new Promise((resolve) => setTimeout(resolve, 300));
    abort.abort();
    assert.deepEqual({ ...(await cancelled), durationMs: 0 }, { status: null, error: 'cancelled', durationMs: 0 });
    const started = performance.now();
    await sender.stop();
    const stopped = await inFlight;
    assert.equal(stopped.status, null);
    assert.equal(stopped.error, 'cancelled');
    assert.ok(performance.now() - started < 5000, 'stop does not wait for the hanging answer');
    assert.equal((await sender.send(hang)).error, 'cancelled', 'nothing is sent once stopped');
  });
});
