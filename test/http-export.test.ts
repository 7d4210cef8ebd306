/**
 * `GET /api/orders.csv` on a real server: RFC 4180 quoting, cells that would
 * run as spreadsheet formulas defused, the list's filters, the same access
 * as listing, and a large export streamed in chunks; a client that leaves
 * mid-export does not disturb the server.
 */

import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { csvCell } from '../src/transport/http/orders-csv.ts';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';

/** RFC 4180 records, parsed independently of the server's writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.equal(cell, '', 'the last record ends with CRLF');
  return rows;
}

describe('GET /api/orders.csv', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('a header row, then one row per order, newest first; quoting and formulas defused', async () => {
    const plain = await postOrder(srv.base, 'Ada Lovelace');
    const tricky = await request(srv.base, 'POST', '/api/orders', {
      customerName: '=HYPERLINK("http://evil.example","click"), "Ltd"',
      customerEmail: 'ada@example.com',
      items: [{ name: '+cmd|calc', quantity: 2, price: 1.5 }, { name: 'line, with comma', quantity: 1, price: 2 }],
    });
    assert.equal(tricky.status, 201);
    const trickyId = (tricky.body as { id: string }).id;
    const minus = await postOrder(srv.base, '-2+3');
    const at = await postOrder(srv.base, '@SUM(A1:A2)');
    const res = await fetch(`${srv.base}/api/orders.csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="orders\.csv"/);
    const rows = parseCsv(await res.text());
    assert.deepEqual(rows[0], ['id', 'customerName', 'customerEmail', 'status', 'items', 'total', 'version', 'createdAt', 'updatedAt']);
    assert.deepEqual(rows.slice(1).map((r) => r[0]), [at.id, minus.id, trickyId, plain.id]);
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    assert.equal(byId.get(trickyId)![1], `'=HYPERLINK("http://evil.example","click"), "Ltd"`);
    assert.equal(byId.get(trickyId)![2], 'ada@example.com');
    assert.equal(byId.get(trickyId)![4], '2 x +cmd|calc; 1 x line, with comma');
    assert.equal(byId.get(trickyId)![5], '5.00');
    assert.equal(byId.get(minus.id)![1], "'-2+3");
    assert.equal(byId.get(at.id)![1], "'@SUM(A1:A2)");
    assert.deepEqual(byId.get(plain.id)!.slice(1, 7), ['Ada Lovelace', '', 'pending', '1 x laptop; 1 x mouse', '', '1']);
    assert.equal(byId.get(plain.id)![7], plain.createdAt);
  });

  test('csvCell: RFC 4180 quotes and the OWASP prefix', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a "b"'), '"a ""b"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('\t=1'), "'\t=1");
    assert.equal(csvCell('=a,b'), `"'=a,b"`);
  });

  test('the list filters apply; unknown parameters and pages are refused', async () => {
    const res = await fetch(`${srv.base}/api/orders.csv?q=ada&status=pending`);
    const rows = parseCsv(await res.text());
    assert.deepEqual(rows.slice(1).map((r) => r[1]), ['Ada Lovelace']);
    for (const bad of ['limit=10', 'sort=id', 'createdAfter=soon']) {
      const refused = await request(srv.base, 'GET', `/api/orders.csv?${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
  });
});

describe('GET /api/orders.csv with tokens: the same access as listing', () => {
  const viewer = 'viewer-token-0123456789abcdef';
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ tokens: [['viewer', viewer]] });
  });
  after(() => srv.close());

  test('401 without a token, 200 for a viewer', async () => {
    const anonymous = await request(srv.base, 'GET', '/api/orders.csv');
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as { code: string }).code, 'LO_ERR_UNAUTHORIZED');
    const res = await fetch(`${srv.base}/api/orders.csv`, { headers: { Authorization: `Bearer ${viewer}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^id,customerName,/);
  });
});

describe('GET /api/orders.csv streams a large export', () => {
  let srv: TestServer;
  const COUNT = 20_000;
  before(async () => {
    srv = await startServer();
    // Through the one write path, in process: 20,000 HTTP requests would only slow the test down.
    for (let i = 0; i < COUNT; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => srv.server.commands.create({ customerName: `Customer ${i + j}`, items: [{ name: 'widget', quantity: 1 }] })));
    }
  });
  after(() => srv.close());

  test('every order arrives, in many chunks', async () => {
    const { response, chunks, text } = await new Promise<{ response: IncomingMessage; chunks: number; text: string }>((resolve, reject) => {
      httpRequest(`${srv.base}/api/orders.csv`, (res) => {
        let chunks = 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          chunks++;
          text += chunk;
        });
        res.on('end', () => resolve({ response: res, chunks, text }));
      }).on('error', reject).end();
    });
    assert.equal(response.headers['transfer-encoding'], 'chunked', 'streamed, not sent with a length computed from one string');
    assert.ok(chunks > 5, `arrived in ${chunks} chunks`);
    const rows = parseCsv(text);
    assert.equal(rows.length, COUNT + 1);
    assert.equal(new Set(rows.slice(1).map((r) => r[0])).size, COUNT);
  });

  test('a client that leaves mid-export: the export stops and the server answers the next one in full', async () => {
    let received = 0;
    const socketGone = await new Promise<boolean>((resolve, reject) => {
      const req = httpRequest(`${srv.base}/api/orders.csv`, (res) => {
        res.once('data', (chunk: Buffer) => {
          received += chunk.length;
          req.destroy();
          resolve(true);
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    assert.ok(socketGone);
    assert.ok(received > 0);
    // The server is still healthy and answers the next request in full.
    const next = await fetch(`${srv.base}/api/orders.csv?q=${encodeURIComponent('Customer 19999')}`);
    assert.deepEqual(parseCsv(await next.text()).slice(1).map((r) => r[1]), ['Customer 19999']);
  });
});
