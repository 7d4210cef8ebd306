/**
 * One log line per HTTP request at `info` (method, path, status, duration,
 * request id), never a token (tracking tokens in paths are redacted, the
 * query is left out, Authorization is never read into the line), and none
 * at `warn`; also through `npm start`'s entry point with LOG_LEVEL.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { createLogger, type LogLevel } from '../src/support/logger.ts';
import { loggedPath } from '../src/transport/http/request-log.ts';
import { request, startServer, waitFor } from './helpers.ts';
import { startInstance } from './processes.ts';

const TOKEN = 'operator-token-0123456789abcdef';

async function serverLoggingAt(level: LogLevel): Promise<{ base: string; lines: Record<string, unknown>[]; raw: string[]; close: () => Promise<void> }> {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, sink: (line) => {
    raw.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  } });
  const srv = await startServer({ logger, tokens: [['operator', TOKEN]] });
  return { base: srv.base, lines, raw, close: srv.close };
}

describe('request log', () => {
  test('at info: one line per request with method, path, status, ms and id; tokens never appear', async (t) => {
    const srv = await serverLoggingAt('info');
    t.after(srv.close);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const created = await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada', items: ['laptop'] }, auth);
    assert.equal(created.status, 201);
    const { trackingToken } = created.body as CreatedOrder;
    assert.equal((await request(srv.base, 'GET', `/api/track/${trackingToken}`)).status, 200);
    assert.equal((await request(srv.base, 'GET', `/track/${trackingToken}`)).status, 200);
    assert.equal((await request(srv.base, 'GET', `/api/orders?q=Ada&secret=${TOKEN}`, undefined, auth)).status, 400);
    assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, { 'X-Request-Id': 'proxy-42' })).status, 401);
    await waitFor(() => srv.lines.filter((l) => l.msg === 'request').length >= 5, 'five request lines');
    const requests = srv.lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, 5, 'one line per request');
    assert.deepEqual(requests.map((l) => [l.method, l.path, l.status]), [
      ['POST', '/api/orders', 201],
      ['GET', '/api/track/[token]', 200],
      ['GET', '/track/[token]', 200],
      ['GET', '/api/orders', 400],
      ['GET', '/api/orders', 401],
    ]);
    for (const line of requests) {
      assert.equal(line.level, 'info');
      assert.equal(typeof line.ms, 'number');
      assert.ok((line.ms as number) >= 0);
      assert.equal(typeof line.id, 'string');
    }
    assert.equal(new Set(requests.map((l) => l.id)).size, 5, 'each request has its own id');
    assert.equal(requests[4]!.id, 'proxy-42', "a proxy's X-Request-Id is kept");
    const everything = srv.raw.join('\n');
    assert.ok(!everything.includes(trackingToken), 'the tracking token is not in the log');
    assert.ok(!everything.includes(TOKEN), 'the role token is not in the log');
  });

  test('at warn: no request lines', async (t) => {
    const srv = await serverLoggingAt('warn');
    t.after(srv.close);
    for (let i = 0; i < 3; i++) assert.equal((await request(srv.base, 'GET', '/healthz')).status, 200);
    assert.equal(srv.lines.filter((l) => l.msg === 'request').length, 0);
  });

  test('loggedPath: no query, tokens redacted, long paths cut', () => {
    assert.equal(loggedPath('/api/orders?q=x&token=abc'), '/api/orders');
    assert.equal(loggedPath('/api/track/brM2CtozOaJKOusVwX6Npw'), '/api/track/[token]');
    assert.equal(loggedPath('/track/brM2CtozOaJKOusVwX6Npw?x=1'), '/track/[token]');
    assert.equal(loggedPath('/api/orders/abc'), '/api/orders/abc');
    assert.equal(loggedPath(`/${'a'.repeat(1000)}`).length, 200);
  });
});

describe('request log through npm start', () => {
  const started: { kill: () => void }[] = [];
  after(() => {
    for (const s of started) s.kill();
  });

  test('LOG_LEVEL=info writes a request line on stderr; LOG_LEVEL=warn none', async () => {
    for (const level of ['info', 'warn'] as const) {
      const instance = await startInstance({ STORAGE: 'memory', LOG_LEVEL: level });
      started.push({ kill: () => instance.child.kill('SIGKILL') });
      let stderr = '';
      instance.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      assert.equal((await request(instance.base, 'GET', '/healthz')).status, 200);
      instance.child.kill('SIGTERM');
      await instance.exited;
      const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const requestLines = lines.filter((l) => l.msg === 'request');
      if (level === 'info') assert.deepEqual(requestLines.map((l) => [l.method, l.path, l.status]), [['GET', '/healthz', 200]]);
      else assert.equal(requestLines.length, 0, stderr);
    }
  });
});
