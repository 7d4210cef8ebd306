/** The terminal client, spawned as a real process against real servers. */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EXIT, HELP, parseWatchArgs } from '../cli/args.ts';
import { clean, formatEvent } from '../cli/format.ts';
import { parseServerMessage, type Order } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';
import { orderBody, postOrder, request, startServer, type TestServer } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { Cli } from './cli-process.ts';

const srv: TestServer = await startServer();
after(srv.close);

const create = postOrder;

const EVENT_LINE = /^\d\d:\d\d:\d\d\.\d{3} {2}#(\d+) {2}(order\.\w+) +([0-9a-f-]{36}) {2}(.+?) {2,}(\S.*)$/;

describe('liveorders-watch', () => {
  test('--help documents every option, the exit codes and examples', async () => {
    const cli = new Cli(['--help']);
    assert.equal(await cli.exited, 0);
    assert.equal(cli.stdout, HELP);
    for (const option of ['--url', '--json', '--order', '--status', '--limit', '--once', '--count', '--until', '--timeout', '--send', '--heartbeat', '--token', '--track', '--no-color', '--width', '-i, --interactive', '--help']) {
      assert.ok(cli.stdout.includes(option), `${option} is documented`);
    }
    assert.match(cli.stdout, /Exit codes: 0 done/);
    assert.match(cli.stdout, /Examples:/);
    for (const line of cli.stdout.split('\n')) assert.ok(line.length <= 80, `--help fits 80 columns: ${line}`);
  });

  test('prints the snapshot as a table, then one line per event, and exits after --count', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const a = await create(fresh.base, 'Table One');
    const b = await create(fresh.base, 'Table Two');
    const cli = new Cli(['--url', `${fresh.wsBase}/ws`, '--count', '3']);
    await cli.until((out) => out.includes('UPDATED'), 'the table');
    await request(fresh.base, 'PUT', `/api/orders/${a.id}/status`, { status: 'processing' });
    const c = await create(fresh.base, 'Three');
    await request(fresh.base, 'DELETE', `/api/orders/${c.id}`);
    assert.equal(await cli.exited, EXIT.ok);
    const lines = cli.lines;
    assert.match(lines[0]!, /^snapshot · seq 2 · 2 orders · pending 2 · processing 0/);
    assert.match(lines[1]!, /^ID +CUSTOMER +STATUS +ITEMS +TOTAL +UPDATED$/);
    assert.match(lines[2]!, new RegExp(`^${b.id} +Table Two +pending +2 +-`));
    assert.match(lines[3]!, new RegExp(`^${a.id} +Table One +pending`));
    const events = lines.slice(4).map((l) => EVENT_LINE.exec(l));
    assert.equal(events.length, 3);
    assert.deepEqual(events.map((m) => [m?.[1], m?.[2], m?.[3], m?.[5]]), [
      ['3', 'order.updated', a.id, 'pending -> processing'],
      ['4', 'order.created', c.id, 'pending'],
      ['5', 'order.deleted', c.id, 'deleted (was pending)'],
    ]);
    assert.doesNotMatch(cli.stdout, /\u001b\[/, 'no colour when stdout is not a terminal');
  });

  test('--json prints each message exactly as received, one per line', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    await create(fresh.base, 'Json');
    const cli = new Cli(['--url', `${fresh.wsBase}/ws`, '--json', '--count', '2']);
    await cli.until((out) => out.includes('"snapshot"'), 'the snapshot');
    await create(fresh.base, 'J2');
    await create(fresh.base, 'J3');
    assert.equal(await cli.exited, EXIT.ok);
    const messages = cli.lines.map((line) => parseServerMessage(line));
    assert.ok(messages.every((m) => m.ok));
    assert.deepEqual(messages.map((m) => m.ok && m.value.type).slice(0, 1), ['snapshot']);
    const seqs = messages.flatMap((m) => (m.ok && m.value.type === 'events' ? m.value.events.map((e) => e.seq) : []));
    assert.deepEqual(seqs, [2, 3]);
  });

  test('--once prints the snapshot and exits; --status and --order narrow the view', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const a = await create(fresh.base, 'Shipped One');
    const b = await create(fresh.base, 'Pending One');
    await request(fresh.base, 'PUT', `/api/orders/${a.id}/status`, { status: 'shipped' });
    const once = new Cli(['--url', `${fresh.wsBase}/ws`, '--once', '--status', 'shipped']);
    assert.equal(await once.exited, EXIT.ok);
    assert.match(once.stdout, /Shipped One/);
    assert.doesNotMatch(once.stdout, /Pending One/);

    const watcher = new Cli(['--url', `${fresh.wsBase}/ws`, '--order', b.id, '--count', '1']);
    await watcher.until((out) => out.includes('UPDATED'), 'the table');
    await request(fresh.base, 'PUT', `/api/orders/${a.id}/status`, { status: 'delivered' }); // not watched
    await request(fresh.base, 'PUT', `/api/orders/${b.id}/status`, { status: 'cancelled' });
    assert.equal(await watcher.exited, EXIT.ok);
    const events = watcher.lines.filter((l) => EVENT_LINE.test(l));
    assert.equal(events.length, 1);
    assert.match(events[0]!, new RegExp(`${b.id} +Pending One +pending -> cancelled$`));
  });

  test('--until waits for a status (exit 0), and fails fast when it can no longer happen (exit 1)', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const order = await create(fresh.base, 'Until');
    const waiter = new Cli(['--url', `${fresh.wsBase}/ws`, '--order', order.id, '--until', 'delivered', '--timeout', '20']);
    await waiter.until((out) => out.includes('UPDATED'), 'the table');
    await request(fresh.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'shipped' });
    await request(fresh.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'delivered' });
    assert.equal(await waiter.exited, EXIT.ok);
    assert.match(waiter.stdout, /shipped -> delivered/);

    const already = new Cli(['--url', `${fresh.wsBase}/ws`, '--order', order.id, '--until', 'delivered']);
    assert.equal(await already.exited, EXIT.ok, 'already delivered: done at the snapshot');
    const never = new Cli(['--url', `${fresh.wsBase}/ws`, '--order', order.id, '--until', 'cancelled']);
    assert.equal(await never.exited, EXIT.failure);
    assert.match(never.stderr, /is delivered and can no longer become cancelled/);
  });

  test('--timeout exits 4 when nothing arrives in time', async () => {
    const started = Date.now();
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--timeout', '0.8']);
    assert.equal(await cli.exited, EXIT.timeout);
    assert.ok(Date.now() - started >= 800);
    assert.match(cli.stderr, /timed out after 0\.8s waiting for an event/);
  });

  test('a server that is not running: exit 3 and how to start it', async () => {
    const cli = new Cli(['--url', 'ws://127.0.0.1:9/ws']);
    assert.equal(await cli.exited, EXIT.unreachable);
    assert.match(cli.stderr, /nothing is listening there\. Is the server running\? Start it with: npm start/);
    assert.match(cli.stderr, /cannot connect to ws:\/\/127\.0\.0\.1:9\/ws: connection refused/);
  });

  test('a server that goes away: each refused reconnect says "connection refused" and where, not "connection lost (1006)"', async () => {
    const gone = await startServer();
    const cli = new Cli(['--url', `${gone.wsBase}/ws`]);
    await cli.until((out) => out.startsWith('snapshot'), 'the snapshot');
    await gone.close();
    const refused = new RegExp(`cannot connect to ${gone.wsBase}/ws: connection refused; reconnecting in \\d+\\.\\ds \\(attempt 2\\)`);
    await cli.until((_out, err) => refused.test(err), 'the second attempt to be refused', 20_000);
    assert.doesNotMatch(cli.stderr, /1006/);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  test('bad usage exits 2; a refused upgrade exits 5; an error answer exits 6', async () => {
    for (const args of [['--url', 'not a url'], ['--url', 'ftp://x/ws'], ['--status', 'lost'], ['--order', 'x'], ['--count', '0'], ['--until', 'delivered'], ['--bogus'], ['--send', '{"type":"nope"}']]) {
      const cli = new Cli(args);
      assert.equal(await cli.exited, EXIT.usage, args.join(' '));
      assert.match(cli.stderr, /Run with --help/);
    }
    const refused = new Cli(['--url', `${srv.wsBase}/not-a-socket`]);
    assert.equal(await refused.exited, EXIT.rejected);
    assert.match(refused.stderr, /refused the connection: 404/);
    const error = new Cli(['--url', `${srv.wsBase}/ws`, '--send', JSON.stringify({ type: 'updateStatus', orderId: SAMPLE_ORDER.id, status: 'shipped' })]);
    assert.equal(await error.exited, EXIT.serverError);
    assert.match(error.stderr, /LO_ERR_NOT_FOUND/);
  });

  test('--send creates an order over the socket and prints the answer, its tracking token and customer page', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--send', JSON.stringify({ type: 'createOrder', order: { customerName: 'From CLI', items: ['x'] } })], { bin: true });
    assert.equal(await cli.exited, EXIT.ok);
    assert.equal(cli.lines.length, 3, cli.stdout);
    const id = /^([0-9a-f-]{36}) {2}From CLI {2}pending {2}v1$/.exec(cli.lines[0]!)?.[1];
    assert.ok(id, cli.stdout);
    assert.equal(((await request(srv.base, 'GET', `/api/orders/${id}`)).body as Order).customerName, 'From CLI');
    const token = /^tracking token {2}([A-Za-z0-9_-]{22})$/.exec(cli.lines[1]!)?.[1];
    assert.ok(token, cli.stdout);
    assert.equal(cli.lines[2], `customer page   ${srv.base}/track/${token}`);
    const tracked = await request(srv.base, 'GET', `/api/track/${token}`);
    assert.equal(tracked.status, 200);
    assert.equal((tracked.body as Order).id, id, 'the printed token opens the order just created');
  });

  test('Ctrl-C exits cleanly with 0', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`]);
    await cli.until((out) => out.startsWith('snapshot'), 'the snapshot');
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  test('after the connection drops it resumes: every event printed exactly once, in order', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const proxy = await TcpProxy.start(Number(new URL(fresh.base).port));
    t.after(() => proxy.close());
    const cli = new Cli(['--url', `ws://127.0.0.1:${proxy.port}/ws`, '--count', '12']);
    await cli.until((out) => out.startsWith('snapshot'), 'the snapshot');
    for (let i = 0; i < 4; i++) await create(fresh.base, `before ${i}`);
    await cli.until((out) => (out.match(/order\.created/g) ?? []).length === 4, '4 events');
    proxy.refuse(true);
    proxy.dropAll();
    await cli.until((_out, err) => /connection lost .*reconnecting in/.test(err), 'the reconnect note');
    for (let i = 0; i < 4; i++) await create(fresh.base, `while away ${i}`);
    proxy.refuse(false);
    await cli.until((_out, err) => /reconnected; resuming after seq 4 \(4 events since\)/.test(err), 'the resume note', 20_000);
    for (let i = 0; i < 4; i++) await create(fresh.base, `after ${i}`);
    assert.equal(await cli.exited, EXIT.ok);
    const seqs = cli.lines.map((l) => EVENT_LINE.exec(l)?.[1]).filter((s) => s !== undefined).map(Number);
    assert.deepEqual(seqs, Array.from({ length: 12 }, (_, i) => i + 1));
  });

  test('a server that silently stops answering is noticed by the heartbeat, and the client reconnects', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const proxy = await TcpProxy.start(Number(new URL(fresh.base).port));
    t.after(() => proxy.close());
    const cli = new Cli(['--url', `ws://127.0.0.1:${proxy.port}/ws`, '--heartbeat', '0.3', '--count', '2']);
    await cli.until((out) => out.startsWith('snapshot'), 'the snapshot');
    await create(fresh.base, 'before the silence');
    await cli.until((out) => out.includes('before the silence'), 'the first event');
    proxy.stall(); // no FIN, no RST: just silence, like a dead route
    await cli.until((_out, err) => /no answer from the server for 0\.3s/.test(err), 'the heartbeat to notice', 10_000);
    await cli.until((_out, err) => /reconnected; resuming after seq 1/.test(err), 'the resume', 10_000);
    await create(fresh.base, 'after the silence');
    assert.equal(await cli.exited, EXIT.ok);
    assert.deepEqual(cli.lines.map((l) => EVENT_LINE.exec(l)?.[1]).filter((s) => s !== undefined), ['1', '2']);
  });

  test('a server restarted mid-stream: a fresh snapshot, then its events', async () => {
    const first = await startServer();
    const port = Number(new URL(first.base).port);
    const cli = new Cli(['--url', `${first.wsBase}/ws`]);
    await cli.until((out) => out.startsWith('snapshot'), 'the snapshot');
    await create(first.base, 'Old Run');
    await cli.until((out) => out.includes('Old Run'), 'the old run event');
    await first.close();
    await cli.until((_out, err) => /the server is shutting down; reconnecting/.test(err), 'the shutdown note');
    const second = await startServer({ port });
    try {
      await cli.until((_out, err) => /fresh snapshot/.test(err), 'the reset note', 20_000);
      await create(second.base, 'New Run');
      await cli.until((out) => out.includes('New Run'), 'the new run event');
      const snapshots = cli.lines.filter((l) => l.startsWith('snapshot'));
      assert.equal(snapshots.length, 2);
      assert.match(snapshots[1]!, /^snapshot · seq 0 · 0 orders/);
      assert.match(cli.lines.at(-1)!, /#1 {2}order\.created .* New Run +pending$/);
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0);
    } finally {
      await second.close();
    }
  });
});

describe('formatting', () => {
  test('colours by status only when asked, and strips control characters from user text', () => {
    const evil = { ...SAMPLE_ORDER, customerName: 'Eve\u001b[2J\u0007' };
    const plain = formatEvent({ type: 'order.created', seq: 1, order: evil }, { color: false });
    assert.doesNotMatch(plain, /[\u0000-\u001f]/);
    assert.match(plain, /Eve�\[2J�/);
    const coloured = formatEvent({ type: 'order.created', seq: 1, order: SAMPLE_ORDER }, { color: true });
    assert.match(coloured, /\u001b\[33mpending\u001b\[0m/);
    assert.equal(clean('ok'), 'ok');
  });
});

test('--track takes every token the server can issue, including one that starts with a dash', () => {
  for (const token of ['-bcdefghijklmnopqrstuv', '_bcdefghijklmnopqrstuv', 'kE5Iw58TRuwd7MP0Q1eVAg']) {
    for (const argv of [['--track', token], [`--track=${token}`]]) {
      const parsed = parseWatchArgs(argv, {}, false);
      assert.ok(parsed.ok, `${argv.join(' ')}: ${parsed.ok ? '' : parsed.error}`);
      assert.equal(parsed.value.track, token);
    }
  }
  assert.equal(parseWatchArgs(['--track', '--once'], {}, false).ok, false);
});

describe('liveorders-watch with tokens on', () => {
  const VIEWER = 'viewer-token-for-the-cli-0123456789';
  test('without a token the server refuses (exit 5, 401); --token and LIVEORDERS_TOKEN work; --track watches one order', async (t) => {
    const secured = await startServer({ tokens: [['viewer', VIEWER], ['operator', `op-${VIEWER}`]] });
    t.after(secured.close);
    const refused = new Cli(['--url', `${secured.wsBase}/ws`, '--once']);
    assert.equal(await refused.exited, EXIT.rejected);
    assert.match(refused.stderr, /refused the connection: 401/);
    const withFlag = new Cli(['--url', `${secured.wsBase}/ws`, '--once', '--token', VIEWER]);
    assert.equal(await withFlag.exited, EXIT.ok);
    const withEnv = new Cli(['--url', `${secured.wsBase}/ws`, '--once'], { env: { LIVEORDERS_TOKEN: VIEWER } });
    assert.equal(await withEnv.exited, EXIT.ok);
    const res = await fetch(`${secured.base}/api/orders`, { method: 'POST', headers: { authorization: `Bearer op-${VIEWER}`, 'content-type': 'application/json' }, body: JSON.stringify(orderBody('Tracked by CLI')) });
    const { trackingToken } = (await res.json()) as { trackingToken: string };
    const tracked = new Cli(['--url', `${secured.wsBase}/ws`, '--once', '--track', trackingToken]);
    assert.equal(await tracked.exited, EXIT.ok);
    assert.match(tracked.stdout, /Tracked by CLI/);
  });

  test('a token revoked while watching ends the watch with exit 5 instead of reconnecting', async (t) => {
    const secured = await startServer({ tokens: [['viewer', VIEWER], ['operator', `op-${VIEWER}`]] });
    t.after(secured.close);
    const cli = new Cli(['--url', `${secured.wsBase}/ws`, '--json', '--token', VIEWER]);
    await cli.until((out) => out.includes('"snapshot"'), 'the snapshot');
    assert.deepEqual(secured.server.replaceTokens([['operator', `op-${VIEWER}`]]), { ok: true, value: { closedSockets: 1 } });
    assert.equal(await cli.exited, EXIT.rejected);
    assert.match(cli.stderr, /the server closed the connection: token revoked/);
    assert.doesNotMatch(cli.stderr, /reconnecting/);
  });
});
