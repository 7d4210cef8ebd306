/**
 * GET /metrics: Prometheus text that parses line by line, every named metric
 * with its type and labels, values that move when the thing they count
 * happens (real HTTP, real WebSockets, a real slow client), no label that
 * carries an id, a token or a path with an id, and who may read it.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { configFromEnv } from '../src/config.ts';
import { FanOutLagSampler } from '../src/observe/fanout-lag.ts';
import { PER_HANDLE_METRICS } from '../src/observe/metrics.ts';
import { typeOf } from '../src/observe/sent-messages.ts';
import type { OrderEvent } from '../src/protocol.ts';
import { createLogger } from '../src/support/logger.ts';
import { AccessControl } from '../src/security/access.ts';
import { ACCESS_POLICY, permits, type Action } from '../src/security/policy.ts';
import { connect, orderBody, postOrder, request, startServer, TestClient, waitFor, type TestServer } from './helpers.ts';
import { RawWebSocket, textFrame } from './raw-ws.ts';

// ---------------------------------------------------------------------------
// A strict parser of the text exposition format (0.0.4)
// ---------------------------------------------------------------------------

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case; prom-client writes `Nan` for an empty event-loop histogram. */
const NUMBER = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf|nan)$/i;

/** Samples of a histogram or summary family carry these suffixes. */
const SUFFIXES: Record<MetricType, readonly string[]> = { counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** Parse every line; throw naming the first one that is not valid exposition format. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line.slice(0, 120)}`;
    if (line === '') continue;
    const help = HELP_LINE.exec(line);
    if (help !== null) {
      assert.ok(!helps.has(help[1]!), `HELP given twice, ${where}`);
      helps.set(help[1]!, help[2]!);
      continue;
    }
    const type = TYPE_LINE.exec(line);
    if (type !== null) {
      assert.ok(!families.has(type[1]!), `TYPE given twice, ${where}`);
      families.set(type[1]!, { type: type[2] as MetricType, help: helps.get(type[1]!) ?? '', samples: [] });
      continue;
    }
    assert.ok(!line.startsWith('#') || line.startsWith('# '), `a comment starts with "# ", ${where}`);
    if (line.startsWith('# ')) continue;
    const sample = SAMPLE_LINE.exec(line);
    assert.ok(sample !== null, `not a sample, ${where}`);
    const [, name, labelText, valueText] = sample;
    assert.match(valueText!, NUMBER, `not a number, ${where}`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const label = LABEL.exec(labelText);
        assert.ok(label !== null, `bad label list, ${where}`);
        assert.ok(!(label[1]! in labels), `label given twice, ${where}`);
        labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const family = familyOf(families, name!);
    assert.ok(family !== undefined, `a sample before its TYPE, ${where}`);
    family.samples.push({ name: name!, labels, value: /nan/i.test(valueText!) ? Number.NaN : /inf/i.test(valueText!) ? (valueText!.startsWith('-') ? -Infinity : Infinity) : Number(valueText!) });
  }
  return families;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  for (const [name, family] of families) {
    if (SUFFIXES[family.type].some((suffix) => sampleName === name + suffix)) return family;
  }
  return undefined;
}

/** The value of one sample, by exact name and labels. */
function valueOf(families: Map<string, Family>, family: string, sample: string, labels: Record<string, string> = {}): number | undefined {
  const found = families.get(family)?.samples.find((s) => s.name === sample && Object.keys(labels).every((k) => s.labels[k] === labels[k]) && Object.keys(s.labels).length === Object.keys(labels).length);
  return found?.value;
}

async function scrape(srv: TestServer, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await request(srv.base, 'GET', '/metrics', undefined, headers);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

// ---------------------------------------------------------------------------

describe('the parser refuses what is not exposition format', () => {
  for (const bad of ['foo{a="b} 1\n', 'foo 1 2 3\n', '# TYPE foo counter\nfoo{a="1",a="2"} 1\n', 'foo one\n', '# TYPE foo counter\nbar 1\n', '# TYPE foo counter\nfoo 1']) {
    test(JSON.stringify(bad), () => assert.throws(() => parseExposition(bad)));
  }
  test('and reads what is', () => {
    const families = parseExposition('# HELP x_total Things\n# TYPE x_total counter\nx_total{k="a \\"q\\""} 3\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n');
    assert.equal(valueOf(families, 'x_total', 'x_total', { k: 'a "q"' }), 3);
    assert.equal(valueOf(families, 'h', 'h_bucket', { le: '+Inf' }), 1);
  });
});

describe('GET /metrics in open mode, from loopback', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('parses, and has the process and Node metrics and every liveorders metric with its type and labels', async () => {
    const families = await scrape(srv);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(families.has(name), `${name} is there`);
    }
    // Those list every handle or file descriptor at each scrape: their cost grows with every open socket.
    for (const name of PER_HANDLE_METRICS) assert.ok(!families.has(name), `${name} is left out`);
    const expected: Record<string, [MetricType, string[]]> = {
      liveorders_websocket_connections: ['gauge', ['role']],
      liveorders_messages_sent_total: ['counter', ['type']],
      liveorders_resumes_total: ['counter', ['outcome']],
      liveorders_http_requests_total: ['counter', ['route', 'code_class']],
      liveorders_http_request_duration_seconds: ['histogram', ['route']],
      liveorders_storage_append_duration_seconds: ['histogram', []],
      liveorders_fanout_lag_seconds: ['histogram', []],
      liveorders_slow_clients_dropped_total: ['counter', []],
      liveorders_orders: ['gauge', ['status']],
      liveorders_webhook_attempts_total: ['counter', ['outcome']],
      liveorders_email_attempts_total: ['counter', ['outcome']],
    };
    for (const [name, [type, labelNames]] of Object.entries(expected)) {
      const family = families.get(name);
      assert.ok(family !== undefined, `${name} is there`);
      assert.equal(family.type, type, `${name} is a ${type}`);
      assert.ok(family.help.length > 10, `${name} says what it is`);
      for (const sample of family.samples) {
        const own = Object.keys(sample.labels).filter((l) => l !== 'le');
        assert.deepEqual(own.sort(), [...labelNames].sort(), `${sample.name} has the labels ${labelNames.join(', ')}`);
      }
    }
    assert.deepEqual(families.get('liveorders_resumes_total')!.samples.map((s) => s.labels.outcome).sort(), ['history', 'reset', 'ring']);
    assert.deepEqual(families.get('liveorders_orders')!.samples.map((s) => s.labels.status).sort(), ['cancelled', 'delivered', 'pending', 'processing', 'shipped']);
  });

  test('a create moves orders{status="pending"}, the append histogram and the HTTP counter of its route', async () => {
    const before = await scrape(srv);
    await postOrder(srv.base);
    const after = await scrape(srv);
    const moved = (family: string, sample: string, labels: Record<string, string> = {}): number => (valueOf(after, family, sample, labels) ?? 0) - (valueOf(before, family, sample, labels) ?? 0);
    assert.equal(moved('liveorders_orders', 'liveorders_orders', { status: 'pending' }), 1);
    assert.equal(moved('liveorders_storage_append_duration_seconds', 'liveorders_storage_append_duration_seconds_count'), 1);
    assert.equal(moved('liveorders_http_requests_total', 'liveorders_http_requests_total', { route: '/api/orders', code_class: '2xx' }), 1);
    assert.equal(moved('liveorders_http_request_duration_seconds', 'liveorders_http_request_duration_seconds_count', { route: '/api/orders' }), 1);
  });

  test('a status change moves one order from pending to processing', async () => {
    const order = await postOrder(srv.base);
    const before = await scrape(srv);
    assert.equal((await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' })).status, 200);
    const after = await scrape(srv);
    const status = (families: Map<string, Family>, s: string): number => valueOf(families, 'liveorders_orders', 'liveorders_orders', { status: s })!;
    assert.equal(status(after, 'pending') - status(before, 'pending'), -1);
    assert.equal(status(after, 'processing') - status(before, 'processing'), 1);
  });

  test('a socket moves connections{role="open"}; its snapshot, events, pong, ack and error move messages_sent_total; an event delivered moves the fan-out lag', async () => {
    const before = await scrape(srv);
    const sent = (families: Map<string, Family>, type: string): number => valueOf(families, 'liveorders_messages_sent_total', 'liveorders_messages_sent_total', { type }) ?? 0;
    const { client } = await connect(`${srv.wsBase}/ws`);
    const during = await scrape(srv);
    assert.equal(valueOf(during, 'liveorders_websocket_connections', 'liveorders_websocket_connections', { role: 'open' })! - valueOf(before, 'liveorders_websocket_connections', 'liveorders_websocket_connections', { role: 'open' })!, 1);
    assert.equal(sent(during, 'snapshot') - sent(before, 'snapshot'), 1);
    await postOrder(srv.base);
    await client.next('events');
    client.send({ type: 'ping', id: 'p1' });
    await client.next('pong');
    client.send({ type: 'createOrder', requestId: 'r1', order: orderBody('Grace') });
    await client.next('ack');
    client.send({ type: 'updateStatus', requestId: 'r2', orderId: '00000000-0000-7000-8000-000000000000', status: 'shipped' });
    await client.next('error');
    await client.until(() => client.events.length === 2, 'the event of the order created over the socket');
    const later = await scrape(srv);
    for (const type of ['pong', 'ack', 'error']) assert.equal(sent(later, type) - sent(before, type), 1, `one ${type}`);
    assert.equal(sent(later, 'events') - sent(before, 'events'), 2, 'two event frames');
    const lagCount = valueOf(later, 'liveorders_fanout_lag_seconds', 'liveorders_fanout_lag_seconds_count')! - valueOf(before, 'liveorders_fanout_lag_seconds', 'liveorders_fanout_lag_seconds_count')!;
    assert.ok(lagCount >= 1, `the fan-out lag was sampled (${lagCount})`);
    const lagSum = valueOf(later, 'liveorders_fanout_lag_seconds', 'liveorders_fanout_lag_seconds_sum')!;
    assert.ok(lagSum > 0 && lagSum < 10 * lagCount, `lags are plausible seconds (${lagSum} over ${lagCount})`);
    client.close();
    await client.closed;
    await waitFor(() => srv.server.webSockets.size === 0, 'the socket to be gone');
    const closed = await scrape(srv);
    assert.equal(valueOf(closed, 'liveorders_websocket_connections', 'liveorders_websocket_connections', { role: 'open' }), valueOf(before, 'liveorders_websocket_connections', 'liveorders_websocket_connections', { role: 'open' }));
  });

  test('a resume moves resumes_total: ring for one the ring covers, reset for another epoch', async () => {
    const resumes = (families: Map<string, Family>, outcome: string): number => valueOf(families, 'liveorders_resumes_total', 'liveorders_resumes_total', { outcome })!;
    const { client, snapshot } = await connect(`${srv.wsBase}/ws`);
    client.close();
    await client.closed;
    await postOrder(srv.base);
    const before = await scrape(srv);
    const resumed = new TestClient(`${srv.wsBase}/ws?since=${snapshot.seq}&epoch=${snapshot.epoch}`);
    await resumed.next('resumed');
    resumed.close();
    const reset = new TestClient(`${srv.wsBase}/ws?since=${snapshot.seq}&epoch=another-epoch`);
    const fresh = await reset.next('snapshot');
    assert.equal(fresh.reset, true);
    reset.close();
    const after = await scrape(srv);
    assert.equal(resumes(after, 'ring') - resumes(before, 'ring'), 1);
    assert.equal(resumes(after, 'reset') - resumes(before, 'reset'), 1);
    assert.equal(resumes(after, 'history'), resumes(before, 'history'));
  });

  test('a client dropped as slow moves slow_clients_dropped_total', async (t) => {
    // Its own server: a thousand orders, and a queue of 64 KiB per socket.
    const slow = await startServer({ highWaterMark: 64 * 1024 });
    t.after(() => slow.close());
    for (let i = 0; i < 1000; i++) assert.ok((await slow.server.commands.create({ customerName: `Customer ${i} with a longer name`, items: [{ name: 'a fairly long item name', quantity: 2, price: 12.5 }] })).ok);
    const dropped = async (): Promise<number> => valueOf(await scrape(slow), 'liveorders_slow_clients_dropped_total', 'liveorders_slow_clients_dropped_total')!;
    assert.equal(await dropped(), 0);
    const silent = await RawWebSocket.open(Number(new URL(slow.base).port), '/ws', { read: false });
    assert.ok(silent instanceof RawWebSocket);
    t.after(() => silent.destroy());
    // Each subscribe asks for ~300 KiB that is never read, within the message rate; the replies after it find the queue full.
    for (let i = 0; i < 60 && (await dropped()) === 0; i++) {
      silent.write(textFrame({ type: 'subscribe', limit: 1000 - i }), textFrame({ type: 'ping' }));
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    assert.equal(await dropped(), 1);
  });

  test('no label value is an id, a token or a path with one: routes are pattern names, unknown paths one label', async () => {
    const created = await request(srv.base, 'POST', '/api/orders', orderBody('Ada'));
    const { id, trackingToken } = created.body as { id: string; trackingToken: string };
    await request(srv.base, 'GET', `/api/orders/${id}`);
    await request(srv.base, 'GET', `/api/orders/${id}/tracking-token`);
    await request(srv.base, 'GET', `/api/track/${trackingToken}`);
    await request(srv.base, 'GET', `/track/${trackingToken}`);
    await request(srv.base, 'GET', `/api/nothing/${id}`);
    await request(srv.base, 'GET', `/no/such/page/${id}?token=${trackingToken}`);
    const tracker = new TestClient(`${srv.wsBase}/ws?track=${trackingToken}`);
    await tracker.next('snapshot');
    const families = await scrape(srv);
    tracker.close();
    const values = [...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
    for (const value of values) {
      assert.doesNotMatch(value, UUID, `a label value with an id: ${value}`);
      assert.ok(!value.includes(trackingToken), `a label value with a tracking token: ${value}`);
    }
    const routes = new Set(families.get('liveorders_http_requests_total')!.samples.map((s) => s.labels.route));
    for (const route of ['/api/orders/:id', '/api/orders/:id/tracking-token', '/api/track/:token', '/track/:token', 'unmatched']) assert.ok(routes.has(route), `route ${route}`);
    for (const route of routes) assert.match(route!, /^(unmatched|\/[a-z/.:-]*)$/, `route label ${route}`);
    assert.equal(valueOf(families, 'liveorders_websocket_connections', 'liveorders_websocket_connections', { role: 'customer' }), 1, 'the tracking socket counts as a customer');
  });

  test('webhook and email attempts are counted by outcome, through the interface their senders call', async () => {
    srv.server.metrics.countWebhookAttempt('delivered');
    srv.server.metrics.countWebhookAttempt('timeout');
    srv.server.metrics.countWebhookAttempt('timeout');
    srv.server.metrics.countEmailAttempt('sent');
    const families = await scrape(srv);
    assert.equal(valueOf(families, 'liveorders_webhook_attempts_total', 'liveorders_webhook_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(valueOf(families, 'liveorders_webhook_attempts_total', 'liveorders_webhook_attempts_total', { outcome: 'timeout' }), 2);
    assert.equal(valueOf(families, 'liveorders_webhook_attempts_total', 'liveorders_webhook_attempts_total', { outcome: 'failed' }), 0);
    assert.equal(valueOf(families, 'liveorders_email_attempts_total', 'liveorders_email_attempts_total', { outcome: 'sent' }), 1);
  });
});

describe('metrics with the request log quiet, and their parts', () => {
  test('with LOG_LEVEL=warn (no request lines) HTTP requests are still counted', async (t) => {
    const srv = await startServer({ logger: createLogger({ level: 'warn', sink: () => undefined }) });
    t.after(() => srv.close());
    await postOrder(srv.base);
    await request(srv.base, 'GET', '/api/orders');
    const families = await scrape(srv);
    assert.equal(valueOf(families, 'liveorders_http_requests_total', 'liveorders_http_requests_total', { route: '/api/orders', code_class: '2xx' }), 2);
  });

  test('the fan-out lag sampler times one event at a time, and only one a flush wrote', () => {
    const lags: number[] = [];
    let now = 0;
    const sampler = new FanOutLagSampler({ observeFanOutLag: (seconds) => lags.push(seconds) }, () => now);
    const event = (seq: number): OrderEvent => ({ type: 'order.deleted', seq, order: { id: `id-${seq}` } as OrderEvent['order'] });
    sampler.take([event(1), event(2)]);
    now = 5;
    sampler.take([event(3)]); // one at a time: not timed
    now = 7;
    sampler.flushed([event(1), event(2), event(3)]);
    assert.deepEqual(lags, [0.007], 'from the batch with seq 2 to the flush that carried it');
    sampler.take([event(4)]);
    now = 9;
    sampler.flushed([event(5)]); // a flush past it without it: event 4 went to no socket
    assert.deepEqual(lags, [0.007]);
    sampler.take([event(6)]);
    now = 10;
    sampler.flushed([event(6)]);
    assert.deepEqual(lags, [0.007, 0.001]);
  });

  test('every server message type is told from its first bytes', () => {
    const messages: Record<string, string> = {
      snapshot: '{"type":"snapshot","seq":1}',
      events: '{"type":"events","events":[]}',
      resumed: '{"type":"resumed"}',
      ack: '{"type":"ack"}',
      error: '{"type":"error"}',
      pong: '{"type":"pong"}',
      refreshed: '{"type":"refreshed","exp":1}',
      productUpdated: '{"type":"productUpdated","seq":1}',
      other: '{"type":"hello"}',
    };
    for (const [type, text] of Object.entries(messages)) assert.equal(typeOf(Buffer.from(text)), type, text);
    assert.equal(typeOf(Buffer.from('[]')), 'other');
    assert.equal(typeOf(Buffer.from('{"t"')), 'other');
    assert.equal(typeOf(Buffer.from('{"type":"e"}')), 'other');
  });
});

describe('who may read /metrics', () => {
  const ADMIN = 'admin-token-0123456789abcdefghij';
  const VIEWER = 'viewer-token-0123456789abcdefghij';
  const SCRAPER = 'metrics-token-0123456789abcdefghij';
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ tokens: [['admin', ADMIN], ['viewer', VIEWER]], metricsToken: SCRAPER });
  });
  after(() => srv.close());
  const status = async (path: string, token?: string): Promise<number> => (await request(srv.base, 'GET', path, undefined, token === undefined ? {} : { authorization: `Bearer ${token}` })).status;

  test('METRICS_TOKEN: 200, and its samples parse', async () => {
    const families = await scrape(srv, { authorization: `Bearer ${SCRAPER}` });
    assert.ok(families.has('liveorders_orders'));
  });

  test('an admin: 200; a viewer: 403; a wrong token: 401; none: 401', async () => {
    assert.equal(await status('/metrics', ADMIN), 200);
    assert.equal(await status('/metrics', VIEWER), 403);
    assert.equal(await status('/metrics', `${SCRAPER}x`), 401);
    assert.equal(await status('/metrics'), 401);
  });

  test('METRICS_TOKEN opens nothing else: the orders, the stats and a WebSocket are refused', async () => {
    assert.equal(await status('/api/orders', SCRAPER), 403);
    assert.equal(await status('/api/stats', SCRAPER), 403);
    const ws = new TestClient(`${srv.wsBase}/ws`, { headers: { authorization: `Bearer ${SCRAPER}` } });
    await assert.rejects(ws.opened(), /upgrade refused: 403/);
  });

  test('the token itself is in no label after being used', async () => {
    const res = await request(srv.base, 'GET', '/metrics', undefined, { authorization: `Bearer ${SCRAPER}` });
    for (const secret of [SCRAPER, ADMIN, VIEWER]) assert.ok(!res.text.includes(secret));
  });
});

describe('the access table and configuration for the metrics', () => {
  const access = (metricsToken?: string): AccessControl =>
    new AccessControl({ tokens: [], writeRatePerMinute: 60, connectionsPerAddress: 10, limitLoopback: false, orderExists: () => true, ...(metricsToken === undefined ? {} : { metricsToken }) });

  test('in open mode only loopback peers may read the metrics; METRICS_TOKEN opens them from anywhere', () => {
    const open = access('metrics-token-0123456789abcdefghij');
    assert.ok(open.admit({ kind: 'open' }, 'readMetrics', { address: '127.0.0.1' }).ok);
    assert.ok(open.admit({ kind: 'open' }, 'readMetrics', { address: '::1' }).ok);
    const far = open.admit({ kind: 'open' }, 'readMetrics', { address: '192.0.2.7' });
    assert.ok(!far.ok && far.error.code === 'LO_ERR_FORBIDDEN');
    const scraper = open.authenticate('Bearer metrics-token-0123456789abcdefghij');
    assert.ok(!(scraper instanceof Promise) && scraper.ok && scraper.value.kind === 'scraper');
    assert.ok(open.admit(scraper.value, 'readMetrics', { address: '192.0.2.7' }).ok);
  });

  test('the scraper may do readMetrics and no other action', () => {
    for (const action of Object.keys(ACCESS_POLICY) as Action[]) {
      const anyone = ACCESS_POLICY[action].roles === 'anyone';
      assert.equal(permits({ kind: 'scraper' }, action), action === 'readMetrics' || anyone, action);
    }
    assert.ok(!permits({ kind: 'role', role: 'viewer', name: 'v', digest: Buffer.alloc(32) }, 'readMetrics'));
    assert.ok(!permits({ kind: 'role', role: 'operator', name: 'o', digest: Buffer.alloc(32) }, 'readMetrics'));
    assert.ok(permits({ kind: 'role', role: 'admin', name: 'a', digest: Buffer.alloc(32) }, 'readMetrics'));
  });

  test('METRICS_TOKEN must be long and plain, and differ from every role token', async () => {
    const short = configFromEnv({ METRICS_TOKEN: 'short' });
    assert.ok(!short.ok && /METRICS_TOKEN must be at least 24/.test(short.error));
    const spaced = configFromEnv({ METRICS_TOKEN: 'with a space in it, long enough to count' });
    assert.ok(!spaced.ok);
    const good = configFromEnv({ METRICS_TOKEN: 'metrics-token-0123456789abcdefghij' });
    assert.ok(good.ok && good.value.options.metricsToken === 'metrics-token-0123456789abcdefghij');
    await assert.rejects(startServer({ tokens: [['admin', 'same-token-0123456789abcdefghij']], metricsToken: 'same-token-0123456789abcdefghij' }), /metricsToken must differ/);
  });
});
