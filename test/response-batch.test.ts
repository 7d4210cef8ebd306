/** Answers written together at the end of the turn: all of them, once each, and a bad one cannot stop the rest. */

import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { queueResponse } from '../src/transport/http/response-batch.ts';

/** A plain node:http server whose handler is the test's, on an ephemeral port. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function get(url: string): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        resolve(res.statusCode === 200 ? { status: 200, body } : { status: res.statusCode!, body, type: res.headers['content-type'] });
      });
    }).on('error', reject).end();
  });
}

const text = (s: string): [string[], Buffer] => [['Content-Type', 'text/plain', 'Content-Length', String(Buffer.byteLength(s))], Buffer.from(s)];

test('answers queued while handling many requests all arrive, and nothing is written before the turn ends', async (t) => {
  let writtenDuringTurn = 0;
  const { server, url } = await serve((req, res) => {
    queueResponse(res, 200, ...text(req.url!));
    if (res.headersSent) writtenDuringTurn++;
  });
  t.after(() => server.close());
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${url}/n${i}`)));
  assert.deepEqual(answers.map((a) => a.body), Array.from({ length: 40 }, (_, i) => `/n${i}`));
  assert.equal(writtenDuringTurn, 0);
});

test('a second answer to the same request is dropped, as once it was written', async (t) => {
  const { server, url } = await serve((_req, res) => {
    queueResponse(res, 200, ...text('first'));
    queueResponse(res, 500, ...text('second'));
  });
  t.after(() => server.close());
  assert.deepEqual(await get(url), { status: 200, body: 'first' });
});

test('a header node:http refuses becomes a 500 for that request only', async (t) => {
  const { server, url } = await serve((req, res) => {
    if (req.url === '/bad') queueResponse(res, 200, ['X-Bad', 'line\nbreak', 'Content-Length', '2'], Buffer.from('no'));
    else queueResponse(res, 200, ...text('fine'));
  });
  t.after(() => server.close());
  const [bad, good] = await Promise.all([get(`${url}/bad`), get(`${url}/good`)]);
  assert.equal(bad.status, 500);
  assert.equal(bad.type, 'application/problem+json; charset=utf-8');
  assert.deepEqual(
    { ...JSON.parse(bad.body), detail: undefined },
    { type: 'urn:liveorders:problem:internal', title: 'Internal error', status: 500, detail: undefined, instance: '/bad', code: 'LO_ERR_INTERNAL' },
  );
  assert.deepEqual(good, { status: 200, body: 'fine' });
  assert.deepEqual(await get(`${url}/after`), { status: 200, body: 'fine' });
});

test('a client that left before the answer went out costs nothing', async (t) => {
  let closed!: () => void;
  const gone = new Promise<void>((resolve) => (closed = resolve));
  const { server, url } = await serve((req, res) => {
    if (req.url !== '/leave') return queueResponse(res, 200, ...text('still here'));
    // Answer only once the client has hung up.
    res.once('close', () => {
      queueResponse(res, 200, ...text('too late'));
      closed();
    });
  });
  t.after(() => server.close());
  const leaving = request(`${url}/leave`);
  leaving.on('error', () => undefined).end();
  setTimeout(() => leaving.destroy(), 50);
  await gone;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await get(`${url}/ok`), { status: 200, body: 'still here' });
});
