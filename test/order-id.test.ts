/** Order ids: valid UUID v7, strictly increasing even within a millisecond or when the clock steps back. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOrderIdGenerator } from '../src/order-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUID v7, unique, and strictly increasing through a frozen and a backward clock', () => {
  const times = [1000, 1000, 1000, 999, 1001, 1001];
  let call = 0;
  const next = createOrderIdGenerator(() => times[Math.min(call++, times.length - 1)]!);
  const ids = Array.from({ length: 5000 }, () => next());
  assert.ok(ids.every((id) => UUID_V7.test(id)));
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
});

test('the timestamp is the clock\'s', () => {
  const next = createOrderIdGenerator(() => 0x0123456789ab);
  assert.ok(next().replaceAll('-', '').startsWith('0123456789ab'));
});
