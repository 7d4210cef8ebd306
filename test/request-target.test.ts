/** Request targets: the hand-split fast path gives what WHATWG URL parsing gives, for plain and tricky targets alike. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isPlainPath, parseRequestTarget } from '../src/transport/http/request-target.ts';

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
  '/ws?status=shipped&limit=10&since=42&epoch=abc',
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

// ---------------------------------------------------------------------------
// Hostile paths: every target is parsed in linear time, and as URL parses it
// ---------------------------------------------------------------------------

/** Pieces of paths that look plain until they do not: runs of path characters, then a dot, a space or an escape. */
const PATH_PIECES = ['a', 'Z', '0', '-', '_', '~', '/', '//', '.', '..', '%20', '%2F', '%', ' ', '\\', '?', '#', '&', '=', 'ä', '\u2028', 'aaaaaaaaaaaaaaaa', '01a20001-9c6d-773e-ad9a-93745170d2b4'];

/** Parse time of `raw`, the least of three tries so that a pause of the machine's is not blamed on the parser. */
function parseMilliseconds(raw: string): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    parseRequestTarget(raw);
    best = Math.min(best, performance.now() - start);
    if (best < 0.1) break;
  }
  return best;
}

test('thousands of random paths up to 2,000 characters: each parses in well under a millisecond, as URL parses it', () => {
  const path = fc
    .array(fc.constantFrom(...PATH_PIECES), { maxLength: 400 })
    .map((pieces) => `/${pieces.join('')}`.slice(0, 2000));
  let slowest = 0;
  fc.assert(
    fc.property(path, fc.constantFrom('', '?limit=5', '?a=b.c&d', '?x=%zz'), (p, query) => {
      const raw = p + query;
      slowest = Math.max(slowest, parseMilliseconds(raw));
      const actual = parseRequestTarget(raw);
      let expected: URL | undefined;
      try {
        expected = new URL(raw, 'http://localhost');
      } catch {
        expected = undefined;
      }
      assert.equal(actual?.pathname, expected?.pathname, raw);
    }),
    { numRuns: 3000, seed: 20261201 },
  );
  assert.ok(slowest < 1, `slowest parse took ${slowest.toFixed(3)} ms`);
});

test('the shape that froze the server: a long run of path characters and then anything else', () => {
  for (const tail of ['.', '%20', ' ', '\\', 'ä', '//', '.json']) {
    for (const length of [32, 200, 1999]) {
      const raw = `/api/orders/${'a'.repeat(length)}${tail}`;
      const ms = parseMilliseconds(raw);
      assert.ok(ms < 1, `${JSON.stringify(raw.slice(-12))} of ${raw.length} characters took ${ms.toFixed(3)} ms`);
    }
  }
});

test('isPlainPath agrees with its definition on every short path over a small alphabet', () => {
  // Slash-separated non-empty segments of unreserved characters other than the dot.
  const definition = (p: string): boolean => p.startsWith('/') && p.slice(1).split('/').every((s, i, all) => /^[A-Za-z0-9_~-]*$/.test(s) && (s !== '' || i === all.length - 1));
  const alphabet = ['/', 'a', '.', '-', '%', ' '];
  const walk = (prefix: string, depth: number): void => {
    assert.equal(isPlainPath(prefix), definition(prefix), JSON.stringify(prefix));
    if (depth > 0) for (const c of alphabet) walk(prefix + c, depth - 1);
  };
  walk('', 6);
});
