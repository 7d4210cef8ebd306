/**
 * Deleting a webhook endpoint on Redis, with two instances: the delete is
 * answered by the instance that does not send, while the sender's worker
 * is in the middle of a delivery. The sender's worker may save the
 * position after that delete; the sender, seeing the endpoint gone, stops
 * its worker and deletes the position again, so no key is left behind.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createClient } from 'redis';
import { consumerName } from '../src/notify/webhooks/endpoint-worker.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from '../src/notify/webhooks/settings.ts';
import { openStorage, type Storage } from '../src/store.ts';
import { captureLogger, postOrder, request, startServer, waitFor, type TestServer } from './helpers.ts';
import { redisRequirement, startRedis } from './redis-server.ts';

const { skip } = redisRequirement();

/** A receiver that holds every request until the test answers it: a delivery in flight for as long as the test wants. */
async function holdingReceiver(): Promise<{ url: string; held: ServerResponse[]; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    held,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('deleting a webhook endpoint on Redis', { skip }, () => {
  test('deleted on the instance that does not send, during a delivery: the sender deletes the position again after its worker stops', async (t) => {
    const redis = await startRedis();
    const receiver = await holdingReceiver();
    const servers: TestServer[] = [];
    const clients: { destroy(): void }[] = [];
    // One cleanup, in order: the servers closed while Redis still answers them.
    t.after(async () => {
      for (const server of servers) await server.close();
      for (const client of clients) client.destroy();
      await receiver.close();
      await redis.dispose();
    });
    const webhooks = { settings: { ...DEFAULT_WEBHOOK_SETTINGS, allowPrivate: true, retryScheduleMs: [100], timeoutMs: 30_000 } };
    const open = (): Promise<Storage> => openStorage({ mode: 'redis', redisUrl: redis.url, redisPrefix: 'hooks-delete', logger: captureLogger().logger, onSinkError: () => undefined });
    const sender = await startServer({ storage: await open(), webhooks });
    servers.push(sender);
    await waitFor(() => sender.logLines.some((l) => l.msg === 'sender lease taken: this instance sends' && l.name === 'webhooks'), 'the first instance to take the webhook lease');
    const other = await startServer({ storage: await open(), webhooks });
    servers.push(other);

    // Every change to the position's key, in order (keyspace notifications), to tell what happened.
    const changes: string[] = [];
    const watcher = createClient({ url: redis.url });
    clients.push(watcher);
    await watcher.connect();
    await watcher.configSet('notify-keyspace-events', 'Kg$');
    const subscriber = watcher.duplicate();
    clients.push(subscriber);
    await subscriber.connect();

    const created = await request(other.base, 'POST', '/api/webhooks', { url: receiver.url, events: ['order.created'] });
    assert.equal(created.status, 201, created.text);
    const id = (created.body as { id: string }).id;
    const name = consumerName(id);
    const key = other.server.storage.sideKeys!.key(`consumer:${name}`);
    await subscriber.subscribe(`__keyspace@0__:${key}`, (event) => changes.push(event));
    // The sender learns of the endpoint on its next re-read, then delivers; the receiver holds the request.
    await postOrder(other.base, 'Held');
    await waitFor(() => receiver.held.length === 1, 'the sender delivering', 30_000);
    assert.notEqual(await other.server.storage.positions.load(name), undefined, 'the position was saved when the endpoint was created');

    const deleted = await request(other.base, 'DELETE', `/api/webhooks/${id}`);
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(await other.server.storage.positions.load(name), undefined, 'deleted by the instance that answered');
    // The delivery in hand succeeds now: the sender's worker saves the position, unless its re-read stopped it first.
    receiver.held[0]!.writeHead(204).end();
    // A change on the sender runs after a re-read of its own: once answered, it has seen the endpoint gone.
    assert.equal((await request(sender.base, 'DELETE', `/api/webhooks/${id}`)).status, 404);
    assert.equal(await sender.server.storage.positions.load(name), undefined, 'no position is left behind');
    assert.equal(await watcher.exists(key), 0);
    t.diagnostic(`changes to the position key after the create: ${changes.join(', ')}`);
    assert.equal(changes.at(-1), 'del', 'the last change to the key deleted it');
  });
});
