/** Order ids: valid UUID v7, strictly increasing even within a millisecond or when the clock steps back, made in runs. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ORDER_ID_BYTES, createOrderIdGenerator, formatOrderId } from '../src/node/order-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUID v7, unique, and strictly increasing through a frozen and a backward clock', () => {
  const times = [1000, 1000, 1000, 999, 1001, 1001];
  let call = 0;
  const next = createOrderIdGenerator({ now: () => times[Math.min(call++, times.length - 1)]! });
  const ids = Array.from({ length: 5000 }, () => next());
  assert.ok(ids.every((id) => UUID_V7.test(id)));
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
});

test('the timestamp is the clock\'s', () => {
  const next = createOrderIdGenerator({ now: () => 0x0123456789ab });
  assert.ok(next().replaceAll('-', '').startsWith('0123456789ab'));
});

test('ids come in runs that double within a millisecond, and each run is announced before its ids are handed out', () => {
  let clock = 5000;
  const runs: string[][] = [];
  const next = createOrderIdGenerator({
    now: () => clock,
    onRun: (ids) => runs.push(Array.from({ length: ids.length / ORDER_ID_BYTES }, (_, i) => formatOrderId(ids, i * ORDER_ID_BYTES))),
  });
  const handedOut: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const runsBefore = runs.length;
    handedOut.push(next());
    // The id just handed out is in the last run announced, whether or not this call announced it.
    assert.ok(runs.at(-1)!.includes(handedOut.at(-1)!), `run ${runsBefore} holds ${handedOut.at(-1)}`);
  }
  assert.deepEqual(
    runs.map((run) => run.length),
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256],
  );
  assert.deepEqual(handedOut, runs.flat().slice(0, 1000), 'ids are handed out in run order, none skipped within a millisecond');

  // The clock moves on: the rest of the last run (23 ids) is dropped and runs start again at one id.
  clock = 5001;
  const later = [next(), next(), next()];
  assert.deepEqual(runs.slice(-2).map((run) => run.length), [1, 2]);
  assert.deepEqual(later, runs.slice(-2).flat());
  assert.ok(later.every((id) => id.replaceAll('-', '').startsWith((5001).toString(16).padStart(12, '0'))), 'ids carry the new millisecond');
  assert.ok(handedOut.at(-1)! < later[0]!);
});

test('a clock that moves every call makes runs of one id', () => {
  let clock = 0;
  const lengths: number[] = [];
  const next = createOrderIdGenerator({ now: () => clock++, onRun: (ids) => lengths.push(ids.length / ORDER_ID_BYTES) });
  for (let i = 0; i < 50; i++) next();
  assert.deepEqual(lengths, Array.from({ length: 50 }, () => 1));
});

test('formatOrderId writes any 16 bytes, at any offset, as lowercase 8-4-4-4-12 hex', () => {
  const reference = (bytes: Buffer): string => bytes.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  // Every byte value in every position, then random blocks behind a 3-byte offset.
  for (let value = 0; value < 256; value++) {
    const bytes = Buffer.alloc(ORDER_ID_BYTES, value);
    bytes[value % ORDER_ID_BYTES] = 255 - value;
    assert.equal(formatOrderId(bytes), reference(bytes));
  }
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(3 + ORDER_ID_BYTES + 5);
    assert.equal(formatOrderId(bytes, 3), reference(bytes.subarray(3, 3 + ORDER_ID_BYTES)));
  }
  // Each call returns its own string: the next call does not change the last one's text.
  const first = formatOrderId(Buffer.alloc(ORDER_ID_BYTES, 0x11));
  formatOrderId(Buffer.alloc(ORDER_ID_BYTES, 0x22));
  assert.equal(first, '11111111-1111-1111-1111-111111111111');
});
