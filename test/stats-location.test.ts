/**
 * Where the data lives (the data folder's absolute path) is not for the
 * network: `/api/stats` gives it to admins only (and in open mode, which
 * has no roles), viewers and operators get the numbers without it, and the
 * public `/healthz` never has it.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Role } from '../src/protocol.ts';
import { seesStorageLocation, type Principal } from '../src/security/auth.ts';
import { openJournalStorage } from '../src/store.ts';
import { captureLogger, orderBody, request, startServer } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const OPERATOR = 'operator-token-0123456789abcdefgh';
const VIEWER = 'viewer-token-0123456789abcdefghij';
const TOKENS = [['admin', ADMIN], ['operator', OPERATOR], ['viewer', VIEWER]] as const;

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'liveorders-stats-')));
after(() => rmSync(dir, { recursive: true, force: true }));

test('/api/stats shows the absolute DATA_DIR to admins only; viewers, operators and /healthz get the numbers without it', async (t) => {
  const { logger } = captureLogger();
  const storage = await openJournalStorage({ dir, logger, onSinkError: (error) => logger.error('sink', { error }) });
  const srv = await startServer({ storage, tokens: TOKENS });
  t.after(() => srv.close());
  assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(), { authorization: `Bearer ${OPERATOR}` })).status, 201);

  const stats = async (token: string): Promise<{ text: string; storage: Record<string, unknown> }> => {
    const res = await request(srv.base, 'GET', '/api/stats', undefined, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    return { text: res.text, storage: (res.body as { storage: Record<string, unknown> }).storage };
  };
  for (const [role, token] of [['viewer', VIEWER], ['operator', OPERATOR]] as const) {
    const seen = await stats(token);
    assert.ok(!seen.text.includes(dir), `${role} sees the path: ${seen.text}`);
    assert.equal(seen.storage.dataDir, undefined, role);
    assert.equal(seen.storage.mode, 'journal', `${role} still gets the storage numbers`);
    assert.equal(seen.storage.durableSeq, 1, role);
  }
  assert.equal((await stats(ADMIN)).storage.dataDir, dir, 'an admin sees where the data is');
  const health = await request(srv.base, 'GET', '/healthz');
  assert.ok(!health.text.includes(dir), health.text);
});

test('an admin signed in with the identity provider sees the location like a role-token admin; other signed-in users, customers and the scraper do not', () => {
  const user = (roles: readonly Role[]): Principal => ({ kind: 'user', issuer: 'https://idp.example', subject: 'u1', roles, expiresAt: Date.now() + 60_000, exp: 0 });
  assert.equal(seesStorageLocation(user(['admin'])), true);
  assert.equal(seesStorageLocation(user(['operator', 'viewer'])), false);
  assert.equal(seesStorageLocation(user([])), false);
  assert.equal(seesStorageLocation({ kind: 'tracking', orderId: 'x' }), false);
  assert.equal(seesStorageLocation({ kind: 'scraper' }), false);
  assert.equal(seesStorageLocation({ kind: 'open' }), true);
});
