/**
 * docs/protocol.md's examples against a real server: every client message it
 * shows (the `→` lines of its sessions, and their URLs) is sent over a real
 * WebSocket, and each answer must have the fields, value types and key
 * values of the `←` line that documents it; the JSON blocks (an order, a
 * snapshot, an events frame, a problem) are compared with what the server
 * really sends for the same situation. When the server or the page change
 * apart, this fails and says where.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ServerMessage } from '../src/protocol.ts';
import { TestClient, connect, postOrder, request, startServer, type TestServer } from './helpers.ts';

const DOC = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** A fenced block of the doc: its language and text. */
interface Block {
  readonly lang: string;
  readonly text: string;
}

const BLOCKS: readonly Block[] = [...DOC.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
/** Sessions: text blocks of `→` and `←` lines. */
const SESSIONS = BLOCKS.filter((b) => b.lang === 'text' && /^→ /m.test(b.text)).map((b) => b.text.split('\n').filter((l) => l !== ''));
const JSON_BLOCKS = BLOCKS.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.text) as unknown);

/** A documented value that stands for anything (`"…"`), or an object key that says more fields follow. */
const ANY = '…';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Fields whose documented value must be the real one, not only of the same type. */
const EXACT = new Set(['type', 'requestId', 'code', 'status', 'reset', 'previousStatus', 'field', 'message', 'title', 'detail', 'statuses', 'orderId']);
/** In sessions (a fresh server, so the numbers are known) these must match too. */
const EXACT_IN_SESSION = new Set(['counts', 'total', 'version']);

/**
 * Differences between a documented value and a real one: same keys (unless the
 * documented object has a `"…"` key, which allows more), same types, the same
 * values for {@link EXACT} fields. Arrays: each real element against the
 * documented one at the same place (or the last one).
 */
function differences(doc: unknown, real: unknown, path: string, exact: ReadonlySet<string>, key = ''): string[] {
  if (doc === ANY) return [];
  // Ids differ from run to run: a documented UUID stands for any UUID.
  if (typeof doc === 'string' && UUID.test(doc)) return typeof real === 'string' && UUID.test(real) ? [] : [`${path}: documented an id, got ${JSON.stringify(real)}`];
  const exactHere = exact.has(key) || (key === 'id' && typeof doc === 'string');
  if (exactHere) return JSON.stringify(doc) === JSON.stringify(real) ? [] : [`${path}: documented ${JSON.stringify(doc)}, got ${JSON.stringify(real)}`];
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(doc) !== kind(real)) return [`${path}: documented a ${kind(doc)}, got ${JSON.stringify(real)}`];
  if (Array.isArray(doc) && Array.isArray(real)) {
    if (doc.length > 0 && real.length === 0) return [`${path}: documented elements, got none`];
    return real.flatMap((item, i) => (doc.length === 0 ? [] : differences(doc[Math.min(i, doc.length - 1)], item, `${path}[${i}]`, exact)));
  }
  if (kind(doc) === 'object') {
    const d = doc as Record<string, unknown>;
    const r = real as Record<string, unknown>;
    const open = ANY in d;
    const found: string[] = [];
    for (const k of Object.keys(d)) {
      if (k === ANY) continue;
      if (!(k in r)) found.push(`${path}.${k}: documented, but the server did not send it`);
      else found.push(...differences(d[k], r[k], `${path}.${k}`, exact, k));
    }
    if (!open) for (const k of Object.keys(r)) if (!(k in d)) found.push(`${path}.${k}: sent by the server (${JSON.stringify(r[k])}), not documented`);
    return found;
  }
  return [];
}

function assertLike(doc: unknown, real: unknown, what: string, exact: ReadonlySet<string> = EXACT): void {
  const found = differences(doc, real, '', exact);
  assert.deepEqual(found, [], `${what} differs from docs/protocol.md:\n${found.join('\n')}\nserver sent: ${JSON.stringify(real)}`);
}

/** The next message of the socket that is an answer (events frames that interleave are skipped unless expected). */
async function nextAnswer(client: TestClient, expectedType: string): Promise<ServerMessage> {
  for (;;) {
    const message = await client.next(undefined, 10_000);
    if (message.type !== 'events' || expectedType === 'events') return message;
  }
}

describe('docs/protocol.md examples against a real server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('the doc has sessions and JSON blocks to check', () => {
    assert.ok(SESSIONS.length >= 3, `found ${SESSIONS.length} sessions`);
    assert.ok(JSON_BLOCKS.length >= 4, `found ${JSON_BLOCKS.length} JSON blocks`);
    const sent = SESSIONS.flat().filter((l) => l.startsWith('→ {')).map((l) => (JSON.parse(l.slice(2)) as { type: string }).type);
    for (const type of ['ping', 'subscribe', 'createOrder', 'updateStatus']) assert.ok(sent.includes(type), `no session sends ${type}`);
  });

  test('every session: each message sent gets the answer the doc shows', async () => {
    const { client: main, snapshot } = await connect(`${srv.wsBase}/ws`);
    const sockets: TestClient[] = [main];
    const known = { EPOCH: snapshot.epoch, SEQ: String(snapshot.seq), ORDER_ID: '', TRACKING_TOKEN: '' };
    const fill = (text: string): string => text.replace(/EPOCH|SEQ|ORDER_ID|TRACKING_TOKEN/g, (name) => known[name as keyof typeof known]);
    let checked = 0;
    try {
      // The sessions in the order the doc gives them; the resume comes first, before any order exists.
      for (const lines of SESSIONS) {
        let current = main;
        for (const line of lines) {
          const body = line.slice(2);
          if (line.startsWith('→ /')) {
            // A new socket at the documented URL. A tracking socket must count only its order: make the store hold more first.
            if (body.includes('track=')) for (const name of ['Other 1', 'Other 2']) await postOrder(srv.base, name);
            known.SEQ = String(srv.server.orders.position.seq);
            current = new TestClient(`${srv.wsBase}${fill(body)}`);
            sockets.push(current);
            await current.opened();
          } else if (line.startsWith('→ ')) {
            current.send(fill(body));
          } else if (line.startsWith('← ')) {
            const documented = JSON.parse(body) as { type: string };
            const real = await nextAnswer(current, documented.type);
            assertLike(documented, real, `the answer to the line before "${line.slice(0, 60)}…"`, new Set([...EXACT, ...EXACT_IN_SESSION]));
            if (real.type === 'ack' && 'trackingToken' in real) {
              known.ORDER_ID = real.order.id;
              known.TRACKING_TOKEN = String(real.trackingToken);
            }
            checked++;
          } else {
            assert.fail(`a session line must start with → or ←: ${line}`);
          }
        }
      }
    } finally {
      for (const socket of sockets) socket.close();
    }
    assert.ok(checked >= 10, `checked ${checked} answers`);
  });

  test('the JSON blocks: an order, a snapshot, an events frame and a problem are what the server sends', async () => {
    const kinds = new Set<string>();
    const { client } = await connect(`${srv.wsBase}/ws`);
    try {
      // The order of the "Orders" block: an email, a priced item, shipped.
      const created = await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada Lovelace', customerEmail: 'ada@example.com', items: [{ name: 'keyboard', quantity: 2, price: 49.5 }] });
      assert.equal(created.status, 201, created.text);
      const id = (created.body as { id: string }).id;
      assert.equal((await request(srv.base, 'PUT', `/api/orders/${id}/status`, { status: 'shipped' })).status, 200);
      const shipped = await request(srv.base, 'GET', `/api/orders/${id}`);
      const refused = await request(srv.base, 'PUT', `/api/orders/${id}/status`, { status: 'pending' });
      assert.equal(refused.status, 409);
      assert.equal((await request(srv.base, 'DELETE', `/api/orders/${id}`)).status, 204);
      await client.until(() => client.events.some((e) => e.type === 'order.deleted' && e.order.id === id), 'the delete event');
      const pending = await postOrder(srv.base, 'Ada');
      const { client: narrowed, snapshot } = await connect(`${srv.wsBase}/ws?status=pending`);
      narrowed.close();
      assert.ok(snapshot.orders.some((o) => o.id === pending.id));

      for (const block of JSON_BLOCKS) {
        const doc = block as Record<string, unknown>;
        if (doc.type === 'snapshot') {
          kinds.add('snapshot');
          assertLike(doc, snapshot, 'the snapshot block');
        } else if (doc.type === 'events') {
          kinds.add('events');
          const events = doc.events as { type: string }[];
          for (const documented of events) {
            const real = client.events.find((e) => e.type === documented.type && e.order.id === id);
            assert.ok(real !== undefined, `no ${documented.type} event came`);
            assertLike(documented, real, `the ${documented.type} event`);
          }
        } else if (typeof doc.code === 'string' && typeof doc.status === 'number') {
          kinds.add('problem');
          assertLike(doc, refused.body, 'the problem block');
        } else if (typeof doc.customerName === 'string') {
          kinds.add('order');
          assertLike(doc, shipped.body, 'the order block');
        }
      }
    } finally {
      client.close();
    }
    assert.deepEqual([...kinds].sort(), ['events', 'order', 'problem', 'snapshot']);
  });

  test('a plain GET of the WebSocket address is the 426 the doc lists', async () => {
    const plain = await request(srv.base, 'GET', '/ws');
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get('upgrade'), 'websocket');
    assert.match(plain.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((plain.body as { code: string }).code, 'LO_ERR_UPGRADE_REQUIRED');
    assert.match(DOC, /`LO_ERR_UPGRADE_REQUIRED` \| 426/);
  });
});
