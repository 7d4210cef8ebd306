/**
 * Webhooks survive kill -9: a server process (journal in a temporary
 * DATA_DIR) is killed in the middle of a burst of creates while it is
 * delivering them; after a restart every order it holds reaches the
 * receiver, and any event that arrived twice carries the same webhook-id.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { orderBody, request, waitFor } from './helpers.ts';
import { allOrders, startInstance, type StartedProcess } from './processes.ts';
import { startReceiver } from './webhook-receiver.ts';

const WEBHOOK_ENV = { WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_SCHEDULE: '0.1,0.2,0.5,1,1,1' };

describe('webhooks and kill -9', () => {
  test('every event arrives after a restart; duplicates carry the same webhook-id', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'liveorders-hooks-'));
    const receiver = await startReceiver();
    const children: StartedProcess[] = [];
    // One cleanup, in order: the servers gone (and done writing) before their folder is removed.
    t.after(async () => {
      for (const started of children) {
        started.child.kill('SIGKILL');
        await started.exited;
      }
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const first = await startInstance({ DATA_DIR: dataDir, ...WEBHOOK_ENV });
    children.push(first);
    const created = await request(first.base, 'POST', '/api/webhooks', { url: receiver.url, events: ['order.created'] });
    assert.equal(created.status, 201, created.text);
    const endpointId = (created.body as { id: string }).id;
    receiver.secrets = [(created.body as { secret: string }).secret];
    // Slow answers keep deliveries in flight when the kill comes.
    receiver.reply = () => ({ status: 204 });
    let answered = 0;
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await request(first.base, 'POST', '/api/orders', orderBody(`crash-${w}-${i}`));
          if (res.status === 201) answered++;
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 10 }, (_, w) => worker(w));
    await waitFor(() => answered >= 150 && receiver.received.length >= 50, 'a burst under way, deliveries going out', 60_000);
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await first.exited;
    const sentBeforeKill = receiver.received.length;

    const second = await startInstance({ DATA_DIR: dataDir, ...WEBHOOK_ENV });
    children.push(second);
    const endpoint = await request(second.base, 'GET', `/api/webhooks/${endpointId}`);
    assert.equal(endpoint.status, 200, 'the endpoint survived');
    assert.equal((endpoint.body as { secret?: string }).secret, undefined);
    const orders = await allOrders(second.base);
    assert.ok(orders.length >= answered, `${orders.length} orders kept, ${answered} answered`);
    const want = new Set(orders.map((order) => order.id));
    await receiver.until((got) => {
      const have = new Set(got.map((r) => r.payload.data.order!.id));
      return [...want].every((id) => have.has(id));
    }, 120_000);
    assert.ok(receiver.received.every((r) => r.verified[0] === true), 'every signature verifies');
    const idOfSeq = new Map<number, string>();
    for (const r of receiver.received) {
      const seq = r.payload.data.seq!;
      const known = idOfSeq.get(seq);
      if (known === undefined) idOfSeq.set(seq, r.id);
      else assert.equal(r.id, known, `seq ${seq} sent twice with the same webhook-id`);
    }
    assert.equal(new Set(idOfSeq.values()).size, idOfSeq.size, 'one webhook-id per event');
    const duplicates = receiver.received.length - idOfSeq.size;
    t.diagnostic(`${orders.length} events, ${sentBeforeKill} requests before the kill, ${duplicates} duplicates`);
    assert.ok(duplicates <= 64 * 2, `duplicates only around the crash (${duplicates})`);
  });
});
