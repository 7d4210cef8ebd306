/**
 * Names that reorder or hide: bidirectional controls (U+202E RIGHT-TO-LEFT
 * OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE...) and names that look empty
 * (U+200B ZERO WIDTH SPACE, U+3164 HANGUL FILLER) are refused over HTTP and
 * WebSocket with a clear error and change nothing; right-to-left names are
 * welcome. A name stored before (older data) is shown isolated by the page's
 * code (toasts, announcements, the feed, labels) and with its controls
 * replaced by the CLI, in its lines and in its `--json` output.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clean, formatEvent, formatOrder, formatSnapshot, jsonForTerminal } from '../cli/format.ts';
import { announcement, createdToast } from '../client/notify.ts';
import { describe as describeEvent } from '../client/ui/activity.ts';
import { isolate, itemText } from '../client/ui/dom.ts';
import { parseCreateOrderInput, type Order, type OrderEvent } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';
import { TestClient, orderBody, request, startServer, type TestServer } from './helpers.ts';

/** The explicit bidi formatting characters: none may reach a screen from a name. */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
const FSI = '\u2068';
const PDI = '\u2069';

const REFUSED_BIDI = ['\u202eevil.exe', 'Ada \u2066Lovelace\u2069', 'Bo\u202a', '\u2067x', 'x\u2068y', 'x\u202cy', '\u202b\u202d'];
const LOOKS_EMPTY = ['\u200b', '\u3164', ' \u200b\u3164 ', '\u2800', '\u200b\u200c\u200d\u2060\ufeff', '\u115f\u1160\uffa0', '\u0301'];
const WELCOME = ['אבי כהן', 'سارة\u200f', 'Zoë\u200d', 'Ada 👩\u200d💻', '李雷'];

describe('names that reorder or look empty are refused', () => {
  let srv: TestServer;
  before(async () => (srv = await startServer()));
  after(() => srv.close());

  test('over HTTP: 400 naming the field and why, nothing stored; right-to-left names are welcome', async () => {
    for (const name of REFUSED_BIDI) {
      const res = await request(srv.base, 'POST', '/api/orders', orderBody(name));
      assert.equal(res.status, 400, JSON.stringify(name));
      const errors = (res.body as { errors: { field: string; message: string }[] }).errors;
      assert.deepEqual(errors.map((e) => e.field), ['customerName']);
      assert.match(errors[0]!.message, /must not contain bidirectional control characters/);
    }
    for (const name of LOOKS_EMPTY) {
      const res = await request(srv.base, 'POST', '/api/orders', orderBody(name));
      assert.equal(res.status, 400, JSON.stringify(name));
      const errors = (res.body as { errors: { field: string; message: string }[] }).errors;
      assert.deepEqual(errors.map((e) => e.field), ['customerName']);
      assert.match(errors[0]!.message, /must (contain a visible character|not be empty)/, JSON.stringify(name));
    }
    const item = await request(srv.base, 'POST', '/api/orders', orderBody('Ada', ['lamp', '\u202etxt.exe', '\u3164']));
    assert.equal(item.status, 400);
    assert.deepEqual((item.body as { errors: { field: string }[] }).errors.map((e) => e.field), ['items[1]', 'items[2]']);
    assert.equal(((await request(srv.base, 'GET', '/api/stats')).body as { seq: number }).seq, 0, 'nothing was stored');
    for (const name of WELCOME) {
      const res = await request(srv.base, 'POST', '/api/orders', orderBody(name));
      assert.equal(res.status, 201, `${JSON.stringify(name)}: ${res.text}`);
      assert.equal((res.body as Order).customerName, name);
    }
  });

  test('over WebSocket: an error answer for createOrder, and the connection goes on', async () => {
    const client = new TestClient(`${srv.wsBase}/ws`);
    after(() => client.ws.close());
    await client.opened();
    await client.next('snapshot');
    for (const [i, name] of ['\u202eevil', '\u3164'].entries()) {
      client.send({ type: 'createOrder', requestId: `r${i}`, order: { customerName: name, items: ['x'] } });
      const error = await client.next('error');
      assert.equal(error.code, 'LO_ERR_INVALID_FIELD');
      assert.deepEqual(error.errors?.map((e) => e.field), ['order.customerName']);
    }
    client.send({ type: 'createOrder', requestId: 'ok', order: { customerName: 'אבי', items: ['x'] } });
    assert.equal((await client.next('ack')).order.customerName, 'אבי');
  });

  test('the validator says the same for the email and for item names given as objects', () => {
    const result = parseCreateOrderInput({ customerName: 'Ada', customerEmail: 'a\u202e@b.co', items: [{ name: '\u200b' }] });
    assert.ok(!result.ok);
    assert.deepEqual(result.error.details.errors?.map((e) => e.field), ['customerEmail', 'items[0].name']);
  });
});

describe('names stored before (older data) cannot reorder what is around them', () => {
  /** An order as older data may hold it: a name with an override and an isolate that is never closed. */
  const stored: Order = { ...SAMPLE_ORDER, customerName: '\u202eexe.txt\u2066 Bob', items: [{ name: 'lamp\u202e', quantity: 2 }] } as Order;
  const created: OrderEvent = { type: 'order.created', seq: 7, order: stored };
  const updated: OrderEvent = { type: 'order.updated', seq: 8, order: { ...stored, status: 'processing' }, previousStatus: 'pending' };

  /** The name, once, between FSI and PDI with nothing else that steers direction inside. */
  function assertIsolatedOnce(text: string): void {
    const isolated = `${FSI}exe.txt Bob${PDI}`;
    assert.ok(text.includes(isolated), JSON.stringify(text));
    assert.ok(!BIDI.test(text.replace(isolated, '')), `only the page's own isolate: ${JSON.stringify(text)}`);
  }

  test('the page: toasts, announcements (aria-live), the activity feed and item lines hold the name isolated, without its controls', () => {
    assertIsolatedOnce(createdToast([stored])!);
    assertIsolatedOnce(announcement([created])!);
    assertIsolatedOnce(announcement([updated])!);
    assertIsolatedOnce(describeEvent(created));
    assert.equal(itemText(stored.items[0]!), `2 × ${FSI}lamp${PDI}`);
    assert.equal(isolate('אבי'), `${FSI}אבי${PDI}`, 'a right-to-left name is kept, isolated');
  });

  test('the CLI: table, event and order lines, and --json output, carry no bidi control', () => {
    const options = { color: false };
    const lines = [
      formatSnapshot({ type: 'snapshot', seq: 8, epoch: 'e', view: {}, limit: 100, total: 1, counts: { pending: 1, processing: 0, shipped: 0, delivered: 0, cancelled: 0 }, orders: [stored] }, options),
      formatEvent(updated, options),
      formatEvent(updated, { color: true, width: 60 }),
      formatOrder(stored, options),
      clean(stored.customerName),
    ];
    for (const line of lines) {
      assert.ok(!BIDI.test(line), JSON.stringify(line));
      assert.ok(line.includes('exe.txt'), line);
    }
    const frame = JSON.stringify({ type: 'events', events: [updated] });
    const printed = jsonForTerminal(frame);
    assert.ok(!BIDI.test(printed), printed);
    assert.deepEqual(JSON.parse(printed), JSON.parse(frame), 'the JSON means the same');
  });
});
