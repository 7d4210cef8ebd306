import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencySamples } from '../src/store/latency-samples.ts';

test('latency samples: nothing before the first, then median and p99 of the most recent only', () => {
  const samples = new LatencySamples(100);
  assert.deepEqual(samples.summary(), { count: 0, p50Ms: null, p99Ms: null });
  for (let ms = 1; ms <= 100; ms++) samples.record(ms);
  assert.deepEqual(samples.summary(), { count: 100, p50Ms: 51, p99Ms: 100 });
  // A hundred more, all slow: the ring forgets the fast ones, the count does not.
  for (let i = 0; i < 100; i++) samples.record(500.0004);
  assert.deepEqual(samples.summary(), { count: 200, p50Ms: 500, p99Ms: 500 });
});

test('latency samples sort numerically, not as text', () => {
  const samples = new LatencySamples(8);
  for (const ms of [9, 10, 100, 2]) samples.record(ms);
  assert.equal(samples.summary().p50Ms, 10);
  assert.equal(samples.summary().p99Ms, 100);
});
