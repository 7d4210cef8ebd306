/** Tracking tokens: derived from the order id under a key, read back to the same id, one spelling each. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { isTrackingToken } from '../src/protocol.ts';
import { TrackingTokens } from '../src/security/tracking.ts';

const newId = createOrderIdGenerator();

test('a token reads back to the order id it was issued for', () => {
  const tokens = new TrackingTokens();
  const ids = Array.from({ length: 2000 }, newId);
  const issued = ids.map((id) => tokens.issue(id));
  assert.ok(issued.every(isTrackingToken));
  assert.equal(new Set(issued).size, ids.length);
  issued.forEach((token, i) => assert.equal(tokens.orderFor(token), ids[i]));
  assert.equal(tokens.issue(ids[7]!), issued[7], 'the same id always gives the same token');
});

test('ids that differ in one bit give unrelated tokens', () => {
  const tokens = new TrackingTokens();
  const a = tokens.issue('01890a5d-ac96-774b-bcce-b302099a8057');
  const b = tokens.issue('01890a5d-ac96-774b-bcce-b302099a8056');
  const same = [...a].filter((c, i) => c === b[i]).length;
  assert.ok(same < 8, `${a} and ${b} share ${same} of 22 positions`);
});

test('a token only opens under the key that issued it', () => {
  const key = randomBytes(16);
  const id = newId();
  const token = new TrackingTokens(key).issue(id);
  assert.equal(new TrackingTokens(Buffer.from(key)).orderFor(token), id, 'the same key, e.g. after a restart with it');
  assert.notEqual(new TrackingTokens().orderFor(token), id);
});

test('each token has one spelling: the other final characters for the same bytes are refused', () => {
  const tokens = new TrackingTokens();
  const token = tokens.issue(newId());
  assert.match(token, /[AQgw]$/);
  const aliases = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    .split('')
    .map((c) => token.slice(0, -1) + c)
    .filter((t) => t !== token && Buffer.from(t, 'base64url').equals(Buffer.from(token, 'base64url')));
  assert.equal(aliases.length, 15);
  for (const alias of aliases) assert.equal(tokens.orderFor(alias), undefined, alias);
});

test('malformed tokens name nothing, and only order ids get tokens', () => {
  const tokens = new TrackingTokens();
  for (const bad of ['', 'short', '../../etc/passwd', 'A'.repeat(21), 'A'.repeat(23), `${'A'.repeat(21)}=`, `${'A'.repeat(20)}+A`]) {
    assert.equal(tokens.orderFor(bad), undefined, JSON.stringify(bad));
  }
  assert.throws(() => tokens.issue('order-1'), TypeError);
  const id = '01890a5d-ac96-774b-bcce-b302099a8057';
  assert.equal(typeof tokens.issue(id), 'string');
  for (const bad of [
    id.toUpperCase(),
    id.replaceAll('-', ''),
    `${id}0`,
    id.slice(0, -1),
    `${id.slice(0, 8)}0${id.slice(9)}`, // a dash replaced by a digit
    '01890a5da-c96-774b-bcce-b302099a8057', // a dash one place late
    `g${id.slice(1)}`,
    `${id.slice(0, 35)}\u00e9`,
    `${id.slice(0, 35)}\u0130`,
    `${id.slice(0, 20)} ${id.slice(21)}`,
  ]) {
    assert.throws(() => tokens.issue(bad), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => new TrackingTokens(randomBytes(15)), RangeError);
  assert.throws(() => tokens.prepare(randomBytes(40)), RangeError);
});

test('tokens of a prepared run are the tokens each id gets on its own, in or out of order', () => {
  const key = randomBytes(16);
  const prepared = new TrackingTokens(key);
  const alone = new TrackingTokens(Buffer.from(key));
  let clock = 1000;
  let runs = 0;
  const next = createOrderIdGenerator({
    now: () => clock,
    onRun: (ids) => {
      runs++;
      prepared.prepare(ids);
    },
  });
  const early = next();
  const ids: string[] = [];
  for (let i = 0; i < 600; i++) {
    if (i % 97 === 0) clock++;
    // As the API does: each order's token right after its id is made.
    const id = next();
    ids.push(id);
    assert.equal(prepared.issue(id), alone.issue(id), id);
  }
  assert.ok(runs > 10);
  // Again, newest first (only the last run is still prepared), then an id from before them all.
  for (const id of [...ids].reverse()) assert.equal(prepared.issue(id), alone.issue(id), id);
  assert.equal(prepared.issue(early), alone.issue(early));
  // Issued out of order inside the current run, too.
  const a = next();
  const b = next();
  assert.equal(prepared.issue(b), alone.issue(b));
  assert.equal(prepared.issue(a), alone.issue(a));
  assert.equal(prepared.orderFor(prepared.issue(a)), a);
});
