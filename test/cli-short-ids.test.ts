/**
 * `--order` with a short id (the last 8+ hex digits the table shows),
 * resolved through the REST search, as a real child process against a real
 * server: a unique suffix watches that order, an ambiguous or unknown one is
 * refused with a sentence that says which, before anything is watched.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXIT, parseWatchArgs } from '../cli/args.ts';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';
import { Cli } from './cli-process.ts';

/** Ids made to share their last 8 digits (and differ before them). */
const IDS = ['01a20001-0000-7000-8000-1111aaaa1111', '01a20002-0000-7000-8000-2222aaaa1111', '01a20003-0000-7000-8000-3333bbbb2222'];

describe('liveorders-watch --order with a short id', () => {
  let srv: TestServer;
  before(async () => {
    let next = 0;
    srv = await startServer({ newId: () => IDS[next++]! });
    for (const name of ['First', 'Second', 'Third']) await postOrder(srv.base, name);
  });
  after(() => srv.close());

  test('a unique suffix of 8 digits watches that order (its snapshot, its counts, its events)', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--order', 'bbbb2222', '--count', '1']);
    await cli.until((out) => out.includes('Third'), 'the snapshot of the order');
    assert.match(cli.stdout, /^snapshot · seq 3 · 1 order/m);
    // Its own counts, not the store's three pending orders.
    assert.match(cli.stdout, /pending 1 · processing 0/);
    assert.doesNotMatch(cli.stdout, /First|Second/);
    const moved = await request(srv.base, 'PUT', `/api/orders/${IDS[2]}/status`, { status: 'shipped' });
    assert.equal(moved.status, 200);
    assert.equal(await cli.exited, EXIT.ok, cli.stderr);
    assert.match(cli.stdout, /#4 +order.updated +[0-9a-f-]*bbbb2222 +Third +pending -> shipped/);
  });

  test('a longer suffix tells two orders apart; --until works with it', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--order', '2222AAAA1111', '--once', '--json']);
    assert.equal(await cli.exited, EXIT.ok, cli.stderr);
    const snapshot = JSON.parse(cli.lines[0]!) as { view: { orderId: string }; orders: { id: string }[] };
    assert.equal(snapshot.view.orderId, IDS[1]);
    assert.deepEqual(snapshot.orders.map((o) => o.id), [IDS[1]]);
    const until = new Cli(['--url', `${srv.wsBase}/ws`, '--order', '1111aaaa1111', '--until', 'pending', '--timeout', '30']);
    assert.equal(await until.exited, EXIT.ok, until.stderr);
  });

  test('an ambiguous suffix: exit 2 naming the orders it matches, and nothing watched', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--order', 'aaaa1111']);
    assert.equal(await cli.exited, EXIT.usage);
    assert.match(cli.stderr, /--order aaaa1111 is ambiguous: 2 order ids end with it/);
    assert.ok(cli.stderr.includes(IDS[0]!) && cli.stderr.includes(IDS[1]!), cli.stderr);
    assert.match(cli.stderr, /give more digits/);
    assert.equal(cli.stdout, '');
  });

  test('an unknown suffix: exit 2 saying no order has it', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--order', 'cccc3333']);
    assert.equal(await cli.exited, EXIT.usage);
    assert.match(cli.stderr, /--order cccc3333: no order id ends with cccc3333/);
  });

  test('a server that is not there: exit 3', async () => {
    const cli = new Cli(['--url', 'ws://127.0.0.1:9/ws', '--order', 'bbbb2222']);
    assert.equal(await cli.exited, EXIT.unreachable);
    assert.match(cli.stderr, /cannot look the short id up at http:\/\/127\.0\.0\.1:9/);
  });

  test('too short or not hex is bad usage before any lookup', () => {
    for (const bad of ['bbbb222', 'zzzzzzzz', '2222-aaaa1111', 'bbbb 2222']) {
      const parsed = parseWatchArgs(['--order', bad], {}, false);
      assert.equal(parsed.ok, false, bad);
      assert.match(parsed.ok ? '' : parsed.error, /last 8 or more hex digits/);
    }
    assert.equal(parseWatchArgs(['--order', '8000-3333bbbb2222'], {}, false).ok, true);
  });
});

describe('liveorders-watch --order short id with tokens', () => {
  const viewer = 'viewer-token-0123456789abcdef';
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ tokens: [['viewer', viewer], ['operator', 'operator-token-0123456789abcdef']] });
    const res = await request(srv.base, 'POST', '/api/orders', { customerName: 'Token', items: ['x'] }, { Authorization: 'Bearer operator-token-0123456789abcdef' });
    assert.equal(res.status, 201);
  });
  after(() => srv.close());

  test('the lookup carries --token; without one the refusal says so (exit 5)', async () => {
    const list = await request(srv.base, 'GET', '/api/orders', undefined, { Authorization: `Bearer ${viewer}` });
    const id = (list.body as { id: string }[])[0]!.id;
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--order', id.slice(-8), '--once', '--json', '--token', viewer]);
    assert.equal(await cli.exited, EXIT.ok, cli.stderr);
    assert.equal((JSON.parse(cli.lines[0]!) as { view: { orderId: string } }).view.orderId, id);
    const anonymous = new Cli(['--url', `${srv.wsBase}/ws`, '--order', id.slice(-8), '--once']);
    assert.equal(await anonymous.exited, EXIT.rejected);
    assert.match(anonymous.stderr, /refused the lookup \(401\)/);
  });
});
