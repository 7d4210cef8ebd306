/** Request targets: the hand-split fast path gives what WHATWG URL parsing gives, for plain and tricky targets alike. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestTarget } from '../src/request-target.ts';

const TARGETS = [
  '/',
  '/api/orders',
  '/api/orders/',
  '/api/orders?limit=100',
  '/api/orders?status=pending,processing&limit=50&cursor=01a20001-9c6d-773e-ad9a-93745170d2b4',
  '/api/orders?status=pending%2Cprocessing&limit=5',
  '/api/orders?q=a+b&q=c%20d&empty=&flag',
  '/api/orders?x=%zz&y=%',
  '/api/orders/01a20001-9c6d-773e-ad9a-93745170d2b4/status',
  '/api/track/tErwmqZmMgZeUtmnGq3zHw',
  '/api/track/-Abc_def~',
  '/ws?status=shipped&limit=10&since=42&server=abc',
  '/ws?track=tErwmqZmMgZeUtmnGq3zHw',
  '/healthz',
  '/track/tErwmqZmMgZeUtmnGq3zHw',
  // Targets URL parsing changes: they must take the slow path and come out the same.
  '/api/../api/orders',
  '/api/./orders',
  '/api/orders/..%2F..%2Fetc',
  '/api/%6Frders',
  '/api\\orders',
  '/api/orders?x=<script>',
  '/api/orders?x="q"&y=`z`',
  '/api/orders?a=1#fragment',
  '/api/orders#frag',
  '/app.js',
  '/api/orders?',
  '/api//orders',
  '/api/orders/ä',
  '/api/orders?name=ä',
  '/api/orders;x=1',
  '/api/orders?x=a?b',
  'http://elsewhere.example/api/orders?limit=1',
  '*',
  '',
];

for (const raw of TARGETS) {
  test(`${JSON.stringify(raw)} parses as URL parses it`, () => {
    let expected: URL | undefined;
    try {
      expected = new URL(raw, 'http://localhost');
    } catch {
      expected = undefined;
    }
    const actual = parseRequestTarget(raw);
    if (expected === undefined) return assert.equal(actual, undefined);
    assert.ok(actual !== undefined);
    assert.equal(actual.pathname, expected.pathname);
    assert.deepEqual([...actual.searchParams], [...expected.searchParams]);
  });
}

test('targets URL parsing refuses are refused', () => {
  assert.equal(parseRequestTarget('//'), undefined);
  assert.equal(parseRequestTarget('http://'), undefined);
});

test('no target means /', () => {
  assert.equal(parseRequestTarget(undefined)?.pathname, '/');
});

test('plain targets take the fast path; targets URL would rewrite do not', () => {
  for (const raw of ['/api/orders', '/api/orders?limit=100&status=pending,shipped', '/ws?track=tErwmqZmMgZeUtmnGq3zHw']) {
    assert.equal(parseRequestTarget(raw) instanceof URL, false, raw);
  }
  for (const raw of ['/api/../x', '/api/%6Frders', '/api\\orders', '/api/orders?x=<y>', '/app.js']) {
    assert.equal(parseRequestTarget(raw) instanceof URL, true, raw);
  }
});
