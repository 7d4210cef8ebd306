/**
 * `liveorders-watch --interactive`: messages read line by line from stdin,
 * checked locally, sent, and answered on stdout, with the events, across
 * reconnects; the end of input ends it with 0.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EXIT } from '../cli/args.ts';
import { parseServerMessage, type Order, type ServerMessage } from '../src/protocol.ts';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { Cli } from './cli-process.ts';

const srv: TestServer = await startServer();
after(srv.close);

const EVENT_SEQ = /^\d\d:\d\d:\d\d\.\d{3} {2}#(\d+) /;

/** stdout of a `--json` run, decoded. */
function messages(cli: Cli): ServerMessage[] {
  return cli.lines.map((line) => {
    const parsed = parseServerMessage(line);
    assert.ok(parsed.ok, line);
    return parsed.value;
  });
}

describe('liveorders-watch --interactive', () => {
  test('sends each valid line, prints each answer, refuses bad lines locally, and exits 0 at the end of input', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--limit', '1', '-i', '--json'], { stdin: true });
    cli.type('{"type":"ping","id":"first"}\n');
    cli.type('{not json\n');
    cli.type('{"type":"launchRocket"}\n');
    cli.type('{"type":"createOrder","requestId":"c1","order":{"customerName":"Typed","items":[]}}\n');
    cli.type('\n{"type":"createOrder","requestId":"c2","order":{"customerName":"Typed","items":["x"]}}\n');
    cli.type('{"type":"subscribe","statuses":["delivered"],"limit":5}\n');
    cli.child.stdin!.end('{"type":"ping","id":"last"}'); // the last line may lack its newline
    assert.equal(await cli.exited, EXIT.ok);
    const received = messages(cli).slice(1); // after the connection's snapshot
    // The created order's event reaches the first view unless the subscribe got there before the hub's flush
    // (then the new view's snapshot covers it): either is right, and nothing else may come between.
    const events = received.filter((m) => m.type === 'events');
    assert.ok(events.length <= 1, cli.stdout);
    if (events[0]?.type === 'events') assert.deepEqual(events[0].events.map((e) => [e.type, e.seq]), [['order.created', 1]]);
    const answers = received.filter((m) => m.type !== 'events');
    assert.deepEqual(answers.map((m) => m.type), ['pong', 'ack', 'snapshot', 'pong'], cli.stdout);
    assert.deepEqual(answers[0], { type: 'pong', id: 'first' });
    assert.equal(answers[1]!.type === 'ack' && answers[1]!.requestId, 'c2');
    assert.deepEqual(answers[2]!.type === 'snapshot' && answers[2]!.view, { statuses: ['delivered'] });
    assert.deepEqual(answers[3], { type: 'pong', id: 'last' });
    // Each bad line was stopped here: the server, which answers every message, answered none with an error.
    assert.match(cli.stderr, /not sent: Malformed JSON/);
    assert.match(cli.stderr, /not sent: Unknown message type "launchRocket"/);
    assert.match(cli.stderr, /not sent: .*\(order\.items /);
    assert.equal(cli.stderr.match(/not sent/g)?.length, 3);
  });

  test('prints answers and events for people: ack with the tracking token, errors, pongs', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    // Heartbeats every 0.1 s: their pongs must not show among the answers.
    const cli = new Cli(['--url', `${fresh.wsBase}/ws`, '-i', '--heartbeat', '0.1'], { stdin: true });
    await cli.until((out) => out.includes('(no orders)'), 'the snapshot');
    cli.type('{"type":"createOrder","requestId":"c1","order":{"customerName":"Grace","items":["compiler"]}}\n');
    await cli.until((out) => out.includes('customer page') && out.includes('order.created'), 'the ack and the event');
    const id = /^ack c1 {2}([0-9a-f-]{36}) {2}Grace {2}pending {2}v1$/m.exec(cli.stdout)?.[1];
    assert.ok(id, cli.stdout);
    const token = /^tracking token {2}(\S{22})$/m.exec(cli.stdout)?.[1];
    assert.equal(((await request(fresh.base, 'GET', `/api/track/${token}`)).body as Order).id, id);
    cli.type(`{"type":"updateStatus","requestId":"u1","orderId":"${id}","status":"delivered","expectedVersion":9}\n`);
    await cli.until((out) => out.includes('error u1'), 'the error answer');
    assert.match(cli.stdout, /^error u1 {2}LO_ERR_VERSION_MISMATCH: /m);
    // Let several heartbeat intervals pass (a local round trip above can take less than one).
    await new Promise((resolve) => setTimeout(resolve, 500));
    cli.child.stdin!.end('{"type":"ping","id":"p"}\n');
    // The error answer did not end the session (the ping after it was answered), but the exit code reports it.
    assert.equal(await cli.exited, EXIT.serverError);
    assert.match(cli.stderr, /1 message got an error answer/);
    assert.equal(cli.lines.at(-1), 'pong p');
    assert.deepEqual(cli.lines.filter((l) => l.startsWith('pong')), ['pong p'], 'heartbeat pongs are not printed');
  });

  test('keeps reconnecting and resuming: every event once, and lines typed while away are sent after', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const proxy = await TcpProxy.start(Number(new URL(fresh.base).port));
    t.after(() => proxy.close());
    const cli = new Cli(['--url', `ws://127.0.0.1:${proxy.port}/ws`, '-i'], { stdin: true });
    await cli.until((out) => out.includes('(no orders)'), 'the snapshot');
    for (let i = 0; i < 3; i++) await postOrder(fresh.base, `before ${i}`);
    await cli.until((out) => (out.match(/order\.created/g) ?? []).length === 3, '3 events');
    proxy.refuse(true);
    proxy.dropAll();
    await cli.until((_out, err) => /reconnecting in/.test(err), 'the reconnect note');
    cli.type('{"type":"ping","id":"typed-while-away"}\n');
    for (let i = 0; i < 3; i++) await postOrder(fresh.base, `while away ${i}`);
    proxy.refuse(false);
    await cli.until((_out, err) => /reconnected; resuming after seq 3 \(3 events since\)/.test(err), 'the resume note', 20_000);
    await cli.until((out) => out.includes('pong typed-while-away'), 'the answer to the line typed while away');
    await postOrder(fresh.base, 'after');
    await cli.until((out) => out.includes('after '), 'the event after the reconnect');
    cli.child.stdin!.end();
    assert.equal(await cli.exited, EXIT.ok);
    const seqs = cli.lines.map((l) => EVENT_SEQ.exec(l)?.[1]).filter((s) => s !== undefined).map(Number);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7]);
  });

  test('a subscribe changes the view it resumes with after a reconnect', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const proxy = await TcpProxy.start(Number(new URL(fresh.base).port));
    t.after(() => proxy.close());
    const cli = new Cli(['--url', `ws://127.0.0.1:${proxy.port}/ws`, '-i', '--json'], { stdin: true });
    await cli.until((out) => out.includes('"snapshot"'), 'the snapshot');
    cli.type('{"type":"subscribe","statuses":["shipped"]}\n');
    await cli.until((out) => out.includes('"view":{"statuses":["shipped"]}'), 'the answer to subscribe');
    proxy.dropAll();
    await cli.until((out) => out.includes('"resumed"'), 'the resume');
    const order = await postOrder(fresh.base, 'Not shipped');
    await request(fresh.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'shipped' });
    await cli.until((out) => out.includes('"previousStatus":"pending"'), 'the shipped event');
    cli.child.stdin!.end();
    assert.equal(await cli.exited, EXIT.ok);
    const resumed = messages(cli).find((m) => m.type === 'resumed');
    assert.deepEqual(resumed?.type === 'resumed' && resumed.view, { statuses: ['shipped'] });
    const events = messages(cli).flatMap((m) => (m.type === 'events' ? m.events : []));
    assert.deepEqual(events.map((e) => [e.type, e.order.status]), [['order.updated', 'shipped']], 'the creation (pending) is outside the view');
  });

  test('cannot be combined with --send or --once', async () => {
    for (const extra of [['--once'], ['--send', '{"type":"ping"}']]) {
      const cli = new Cli(['-i', ...extra]);
      assert.equal(await cli.exited, EXIT.usage);
      assert.match(cli.stderr, /--interactive cannot be combined with --(once|send)/);
    }
  });
});
