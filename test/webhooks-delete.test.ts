/**
 * Deleting a webhook endpoint deletes its durable consumer position too
 * (journal backend, a real server and receiver): no position file is left
 * in DATA_DIR, a server started again on the folder brings nothing of it
 * back, and the endpoints that stay keep theirs. So creating and deleting
 * endpoints does not grow the storage without bound.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { consumerName } from '../src/notify/webhooks/endpoint-worker.ts';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../src/notify/webhooks/settings.ts';
import type { Position } from '../src/protocol.ts';
import { openJournalStorage, type Storage } from '../src/store.ts';
import { captureLogger, postOrder, request, startServer, type TestServer } from './helpers.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

/** Fast retries, private targets allowed (the receiver is on 127.0.0.1). */
const SETTINGS: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, retryScheduleMs: [100, 200, 200], allowPrivate: true, timeoutMs: 5000 };

/** A server on the journal in `dir`, closed after the test (a restart closes it first). */
async function serverOn(t: TestContext, dir: string): Promise<{ srv: TestServer; storage: Storage }> {
  const { logger } = captureLogger();
  const storage = await openJournalStorage({ dir, logger, onSinkError: (error) => logger.error('an event consumer failed', { error }) });
  const srv = await startServer({ storage, webhooks: { settings: SETTINGS } });
  t.after(() => srv.close());
  return { srv, storage };
}

/** A new endpoint for `receiver`'s order.created events; the receiver verifies with its secret. */
async function addEndpoint(srv: TestServer, receiver: Receiver): Promise<string> {
  const res = await request(srv.base, 'POST', '/api/webhooks', { url: receiver.url, events: ['order.created'] });
  assert.equal(res.status, 201, res.text);
  const created = res.body as { id: string; secret: string };
  receiver.secrets = [created.secret];
  return created.id;
}

/** Every file under `dir` (relative paths), any depth. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

/** Read the position until it passes `predicate` (every 20 ms, up to 30 s); the last one read either way. */
async function positionWhen(storage: Storage, name: string, predicate: (position: Position | undefined) => boolean): Promise<Position | undefined> {
  const deadline = Date.now() + 30_000;
  let position = await storage.positions.load(name);
  while (!predicate(position) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    position = await storage.positions.load(name);
  }
  return position;
}

describe('deleting a webhook endpoint deletes its position (journal)', () => {
  test('after a delivery, a delete leaves no position in DATA_DIR, and a restart brings none back', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'liveorders-hooks-delete-'));
    const receiver = await startReceiver();
    const kept = await startReceiver();
    // Registered first, so it runs last: the servers are closed before their folder goes.
    t.after(async () => {
      await receiver.close();
      await kept.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const first = await serverOn(t, dir);
    const deletedId = await addEndpoint(first.srv, receiver);
    const keptId = await addEndpoint(first.srv, kept);
    const order = await postOrder(first.srv.base, 'Before the delete');
    await receiver.until((got) => got.some((r) => r.payload.data.order?.id === order.id), 20_000);
    assert.deepEqual(receiver.received.at(-1)!.verified, [true]);
    // Its position is saved once the batch is done: the file the delete must remove.
    const saved = await positionWhen(first.storage, consumerName(deletedId), (p) => p !== undefined && p.seq >= first.srv.server.node.position.seq);
    assert.equal(saved?.seq, first.srv.server.node.position.seq, 'the delivered event moved the position');
    assert.ok(filesUnder(dir).some((name) => name.includes(deletedId) && name.endsWith('.position')), 'a position file was there before the delete');

    const deleted = await request(first.srv.base, 'DELETE', `/api/webhooks/${deletedId}`);
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(await first.storage.positions.load(consumerName(deletedId)), undefined, 'the position is gone once the delete is answered');
    assert.deepEqual(filesUnder(dir).filter((name) => name.includes(deletedId)), [], 'no file of the deleted endpoint is left in DATA_DIR');
    // The other endpoint still delivers and keeps its position.
    const next = await postOrder(first.srv.base, 'After the delete');
    await kept.until((got) => got.some((r) => r.payload.data.order?.id === next.id), 20_000);
    assert.notEqual(await first.storage.positions.load(consumerName(keptId)), undefined, 'the kept endpoint keeps its position');
    await first.srv.close();

    const second = await serverOn(t, dir);
    assert.equal((await request(second.srv.base, 'GET', `/api/webhooks/${deletedId}`)).status, 404, 'the endpoint stays deleted');
    assert.deepEqual(((await request(second.srv.base, 'GET', '/api/webhooks')).body as { id: string }[]).map((e) => e.id), [keptId]);
    // An event after the restart goes through every consumer: still nothing is saved for the deleted endpoint.
    const later = await postOrder(second.srv.base, 'After the restart');
    await kept.until((got) => got.some((r) => r.payload.data.order?.id === later.id), 20_000);
    const keptAt = await positionWhen(second.storage, consumerName(keptId), (p) => p !== undefined && p.seq >= second.srv.server.node.position.seq);
    assert.equal(keptAt?.seq, second.srv.server.node.position.seq, 'the kept endpoint went on from its position');
    assert.equal(await second.storage.positions.load(consumerName(deletedId)), undefined, 'no position came back after the restart');
    assert.deepEqual(filesUnder(dir).filter((name) => name.includes(deletedId)), [], 'no file of it came back after the restart');
    assert.equal(receiver.received.filter((r) => r.payload.data.order?.id !== order.id).length, 0, 'the deleted endpoint got nothing after its delete');
  });

  test('a delete while a delivery hangs: answered, the attempt cut, and no position left before or after a restart', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'liveorders-hooks-delete-'));
    const receiver = await startReceiver();
    t.after(async () => {
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const { srv, storage } = await serverOn(t, dir);
    const id = await addEndpoint(srv, receiver);
    receiver.reply = () => 'hang';
    const order = await postOrder(srv.base, 'Hanging');
    await receiver.until((got) => got.some((r) => r.payload.data.order?.id === order.id), 20_000);
    const deleted = await request(srv.base, 'DELETE', `/api/webhooks/${id}`);
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(await storage.positions.load(consumerName(id)), undefined);
    for (let i = 0; i < 3; i++) await postOrder(srv.base, `After ${i}`);
    await srv.close();
    assert.deepEqual(filesUnder(dir).filter((name) => name.includes(id)), [], 'no file of the deleted endpoint is left after a clean stop');
    const again = await serverOn(t, dir);
    assert.equal((await request(again.srv.base, 'GET', `/api/webhooks/${id}`)).status, 404);
    assert.equal(await again.storage.positions.load(consumerName(id)), undefined, 'no position came back after the restart');
    assert.equal(receiver.received.length, 1, 'the deleted endpoint got nothing after its delete');
  });
});
