/**
 * X-Request-Id: a sane id from the client is kept, anything else is
 * replaced by one of ours; the id is in the answer's header, in the request
 * log line and in problem bodies, also when the log is off.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, type LogLevel } from '../src/support/logger.ts';
import { request, startServer, waitFor, type TestServer } from './helpers.ts';

const TOKEN = 'operator-token-0123456789abcdef';

async function serverAt(level: LogLevel): Promise<{ srv: TestServer; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const srv = await startServer({ logger, tokens: [['operator', TOKEN]] });
  return { srv, lines };
}

describe('X-Request-Id', () => {
  test('a sane id is echoed in the header, the problem body and the log line', async (t) => {
    const { srv, lines } = await serverAt('info');
    t.after(srv.close);
    const res = await request(srv.base, 'GET', '/api/orders', undefined, { 'X-Request-Id': 'edge-7f3a:42.b_c' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-request-id'), 'edge-7f3a:42.b_c');
    assert.equal((res.body as { requestId?: unknown }).requestId, 'edge-7f3a:42.b_c');
    await waitFor(() => lines.some((l) => l.msg === 'request' && l.id === 'edge-7f3a:42.b_c'), 'the log line with the id');
  });

  test('an id that is too long, or has unsafe characters, is replaced by one of ours', async (t) => {
    const { srv, lines } = await serverAt('info');
    t.after(srv.close);
    const hostile = ['x'.repeat(65), 'a b', 'a"b', 'a\tb', '<script>', 'ü'];
    const seen = new Set<string>();
    for (const sent of hostile) {
      const res = await request(srv.base, 'GET', '/api/nothing-here', undefined, { 'X-Request-Id': sent }).catch(() => undefined);
      if (res === undefined) continue; // fetch itself refuses some header values
      assert.equal(res.status, 404);
      const id = res.headers.get('x-request-id');
      assert.ok(id !== null && id !== sent && /^[\w.:-]{1,64}$/.test(id), `replaced: ${JSON.stringify(sent)} -> ${id}`);
      assert.equal((res.body as { requestId?: unknown }).requestId, id);
      seen.add(id);
    }
    assert.ok(seen.size >= 4, 'most hostile ids reached the server, and each got its own id');
    await waitFor(() => [...seen].every((id) => lines.some((l) => l.msg === 'request' && l.id === id)), 'a log line per made id');
  });

  test('every answer carries one, successes and streams included, also with the log off', async (t) => {
    const { srv } = await serverAt('warn');
    t.after(srv.close);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const ids = new Set<string>();
    for (const path of ['/healthz', '/api', '/api/orders', '/api/orders.csv', '/']) {
      const res = await request(srv.base, 'GET', path, undefined, auth);
      assert.equal(res.status, 200, path);
      const id = res.headers.get('x-request-id');
      assert.ok(id !== null && id.length > 0, `${path} has an id`);
      ids.add(id);
    }
    assert.equal(ids.size, 5, 'each request has its own id');
    const kept = await request(srv.base, 'GET', '/healthz', undefined, { 'X-Request-Id': 'lb-1' });
    assert.equal(kept.headers.get('x-request-id'), 'lb-1');
  });
});
