/**
 * Durability with real processes: `kill -9` in the middle of a burst of
 * writes loses nothing that was answered 2xx and invents nothing that was
 * not asked for; a data folder on a full file system (a small tmpfs in a
 * mount namespace of its own) turns writes into 503 while reads and
 * sockets go on, and takes writes again once space returns.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ALLOWED_TRANSITIONS, type Order, type OrderStatus } from '../src/protocol.ts';
import { TestClient, orderBody, request, waitFor } from './helpers.ts';
import { MAIN, allOrders, startProcess } from './processes.ts';
import { requirement } from './requirements.ts';

const folders: string[] = [];
after(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function folder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

describe('kill -9', () => {
  test('during a burst of creates and status changes from 20 connections: every 2xx survives, nothing unasked appears', async (t) => {
    const dataDir = folder('liveorders-kill-');
    const { child, base, exited } = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dataDir });
    t.after(() => child.kill('SIGKILL'));
    /** Per order: the statuses asked for, in order; and what was answered 2xx. */
    const asked = new Map<string, OrderStatus[]>();
    const namesAsked = new Set<string>();
    const createdOk = new Map<string, string>();
    const changedOk: { id: string; version: number; status: OrderStatus }[] = [];
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      const mine: Order[] = [];
      for (let i = 0; !stop; i++) {
        try {
          const movable = mine.filter((o) => ALLOWED_TRANSITIONS[o.status].length > 0);
          if (i % 2 === 0 || movable.length === 0) {
            const name = `w${w}-${i}`;
            namesAsked.add(name);
            const res = await request(base, 'POST', '/api/orders', orderBody(name));
            if (res.status === 201) {
              const order = res.body as Order;
              createdOk.set(order.id, name);
              asked.set(order.id, []);
              mine.push(order);
            }
          } else {
            const order = movable[i % movable.length]!;
            const to = ALLOWED_TRANSITIONS[order.status][0]!;
            asked.get(order.id)!.push(to);
            const res = await request(base, 'PUT', `/api/orders/${order.id}/status`, { status: to }, { 'if-match': `"${order.version}"` });
            if (res.status === 200) {
              const moved = res.body as Order;
              changedOk.push({ id: moved.id, version: moved.version, status: moved.status });
              mine[mine.indexOf(order)] = moved;
            }
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 20 }, (_, w) => worker(w));
    await waitFor(() => createdOk.size >= 300 && changedOk.length >= 150, 'a burst under way', 30_000);
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited;

    const restarted = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dataDir });
    t.after(() => restarted.child.kill('SIGKILL'));
    const orders = new Map((await allOrders(restarted.base)).map((o) => [o.id, o]));
    for (const [id, name] of createdOk) assert.equal(orders.get(id)?.customerName, name, `created ${id} (2xx) survived`);
    for (const change of changedOk) {
      const order = orders.get(change.id);
      assert.ok(order !== undefined && order.version >= change.version, `change to v${change.version} of ${change.id} survived`);
      assert.equal(order.history[change.version - 1]?.status, change.status);
    }
    for (const order of orders.values()) {
      assert.ok(namesAsked.has(order.customerName), `${order.customerName} was asked for`);
      const statuses = order.history.slice(1).map((h) => h.status);
      const requested = asked.get(order.id) ?? [];
      assert.deepEqual(statuses, requested.slice(0, statuses.length), `order ${order.id} moved only as asked`);
    }
    t.diagnostic(`kill -9 after ${createdOk.size} creates and ${changedOk.length} changes answered 2xx; ${orders.size} orders after the restart`);
  });
});

const NAMESPACES = requirement('unshare', ['-rm', 'true'], 'a mount namespace (util-linux unshare, with user namespaces) for a small tmpfs');

describe('a full disk', { skip: NAMESPACES.skip }, () => {
  test('writes get 503 with Retry-After and change nothing; reads and sockets go on; writes work again once space returns', async (t) => {
    const mount = folder('liveorders-tmpfs-');
    const signals = folder('liveorders-signals-');
    mkdirSync(join(mount, 'm'));
    // The shell becomes the server (exec), so signals reach it; a helper in the background fills the
    // file system when the test says so, gives the space back later, and ends with the server.
    const alive = 'kill -0 $$ 2>/dev/null || exit 0';
    const script = [
      'set -e',
      `mount -t tmpfs -o size=1m tmpfs "${mount}/m"`,
      `mkdir "${mount}/m/data"`,
      '(',
      `  while [ ! -e "${signals}/fill" ]; do ${alive}; sleep 0.05; done`,
      `  dd if=/dev/zero of="${mount}/m/filler" bs=4k 2>/dev/null || true`,
      `  touch "${signals}/full"`,
      `  while [ ! -e "${signals}/free" ]; do ${alive}; sleep 0.05; done`,
      `  rm -f "${mount}/m/filler"`,
      `  touch "${signals}/freed"`,
      ') &',
      `DATA_DIR="${mount}/m/data" PREALLOCATE_BYTES=16384 exec "${process.execPath}" --import tsx "${MAIN}"`,
    ].join('\n');
    const { child, base } = await startProcess('unshare', ['-rm', 'sh', '-c', script], {});
    t.after(() => child.kill('SIGKILL'));
    const watcher = new TestClient(`${base.replace('http', 'ws')}/ws`);
    t.after(() => watcher.close());
    await watcher.next('snapshot');
    assert.equal((await request(base, 'POST', '/api/orders', orderBody('before'))).status, 201);
    writeFileSync(join(signals, 'fill'), '');
    await waitFor(() => existsSync(join(signals, 'full')), 'the file system to fill');

    const accepted: string[] = [];
    let refused: Awaited<ReturnType<typeof request>> | undefined;
    for (let i = 0; i < 300 && refused === undefined; i++) {
      const res = await request(base, 'POST', '/api/orders', orderBody(`while full ${i}`));
      if (res.status === 201) accepted.push(`while full ${i}`);
      else refused = res;
    }
    assert.ok(refused !== undefined, 'a write was refused once the disk was full');
    assert.equal(refused.status, 503, refused.text);
    assert.equal((refused.body as { code: string }).code, 'LO_ERR_UNAVAILABLE');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const refusedName = `while full ${accepted.length}`;
    const health = await request(base, 'GET', '/healthz');
    assert.equal(health.status, 503);
    assert.deepEqual([(health.body as { ready: boolean }).ready, (health.body as { reason: string }).reason], [false, 'ENOSPC']);
    const listed = await request(base, 'GET', '/api/orders?limit=1000');
    assert.equal(listed.status, 200, 'reads go on');
    assert.ok(!(listed.body as Order[]).some((o) => o.customerName === refusedName), 'the refused write changed nothing');
    assert.equal(watcher.closeCode, undefined, 'sockets stay open');

    writeFileSync(join(signals, 'free'), '');
    await waitFor(() => existsSync(join(signals, 'freed')), 'space to return');
    const again = await request(base, 'POST', '/api/orders', orderBody('after'));
    assert.equal(again.status, 201, again.text);
    assert.equal((await request(base, 'GET', '/healthz')).status, 200);
    await watcher.until(() => watcher.events.some((e) => e.order.customerName === 'after'), 'the event after recovery');
    const names = watcher.events.map((e) => e.order.customerName);
    assert.deepEqual(names, ['before', ...accepted, 'after'], 'watchers saw exactly the writes that were answered 2xx');
    const seqs = watcher.events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'and a gap-free seq across the failure');
    child.kill('SIGTERM');
  });
});
