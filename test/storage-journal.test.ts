/**
 * The journal backend: the conformance suite, and what durability promises
 * on real files: restarts keep everything (epoch, seq, keys, tracking
 * links), a record cut short by a crash is cut off, anything else that does
 * not read back stops the start naming the file and offset, one process
 * per folder, compaction under load, resume and idempotent retries across
 * a restart.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CreatedOrder, Order } from '../src/protocol.ts';
import { createServer } from '../src/server.ts';
import { openJournalStorage, StorageStartError, type JournalLog, type Storage } from '../src/store.ts';
import { RECORD_HEADER_BYTES } from '../src/store/journal/records.ts';
import { TestClient, captureLogger, connect, orderBody, pool, request, waitFor } from './helpers.ts';
import { describeStorage } from './storage-conformance.ts';

const folders: string[] = [];
after(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A new, empty folder for a journal. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-journal-'));
  folders.push(dir);
  return dir;
}

/** Where each storage lives, to reopen it. */
const dirOf = new WeakMap<Storage, string>();

async function openAt(dir: string, options: { compactAfterBytes?: number; lines?: Record<string, unknown>[] } = {}): Promise<Storage> {
  const { logger, lines } = captureLogger();
  const storage = await openJournalStorage({
    dir,
    logger,
    onSinkError: (error) => {
      throw error;
    },
    ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
  });
  options.lines?.push(...lines);
  dirOf.set(storage, dir);
  return storage;
}

describeStorage('journal', {
  open: () => openAt(folder()),
  reopen: async (storage) => {
    await storage.log.close();
    return openAt(dirOf.get(storage)!);
  },
  processEnv: () => ({ STORAGE: 'journal', DATA_DIR: folder() }),
  // A compaction: a snapshot of every order, and the segments before it removed.
  trim: (storage) => (storage.log as JournalLog).compact(),
});

/** A server on a journal in `dir`, listening on a free port. */
async function serverAt(dir: string, options: { compactAfterBytes?: number } = {}): Promise<{ base: string; wsBase: string; server: ReturnType<typeof createServer>; close(): Promise<void> }> {
  const storage = await openAt(dir, options);
  const server = createServer({ port: 0, storage, logger: captureLogger().logger });
  const address = await server.listen();
  return { base: `http://127.0.0.1:${address.port}`, wsBase: `ws://127.0.0.1:${address.port}`, server, close: () => server.close() };
}

/** The one segment file of a folder, and its bytes. */
function lastSegment(dir: string): { path: string; bytes: Buffer } {
  const name = readdirSync(dir).filter((n) => n.startsWith('journal-')).sort().at(-1)!;
  return { path: join(dir, name), bytes: readFileSync(join(dir, name)) };
}

/** A fresh folder whose server created `orders` orders and stopped: the folder, and its segment's path and bytes. */
async function closedJournal(orders: number): Promise<{ dir: string; path: string; bytes: Buffer }> {
  const dir = folder();
  const first = await serverAt(dir);
  for (let i = 0; i < orders; i++) assert.equal((await request(first.base, 'POST', '/api/orders', orderBody(`c${i}`))).status, 201);
  await first.close();
  return { dir, ...lastSegment(dir) };
}

/** The offsets where the records of a file start (up to the zeros allocated ahead), and where they end. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (; at < bytes.length && bytes.readUInt32BE(at) !== 0; at += RECORD_HEADER_BYTES + bytes.readUInt32BE(at)) offsets.push(at);
  return offsets;
}

/** The end of the last record of a file. */
function recordsEnd(bytes: Buffer): number {
  const last = recordOffsets(bytes).at(-1)!;
  return last + RECORD_HEADER_BYTES + bytes.readUInt32BE(last);
}

describe('journal: files that do not read back', () => {
  test('a last record cut in half (a crash mid-write) is cut off and logged; everything before it is there', async () => {
    const { dir, path, bytes } = await closedJournal(10);
    const last = recordOffsets(bytes).at(-1)!;
    const cut = last + Math.floor((recordsEnd(bytes) - last) / 2);
    writeFileSync(path, bytes.subarray(0, cut));
    const lines: Record<string, unknown>[] = [];
    const storage = await openAt(dir, { lines });
    assert.equal(storage.initial.position.seq, 9);
    assert.equal(storage.initial.orders.length, 9);
    const torn = lines.find((l) => String(l.msg).includes('cut short'));
    assert.ok(torn !== undefined, 'the cut is logged');
    assert.equal(torn.offset, last);
    assert.equal(statSync(path).size, last, 'the torn record was cut off');
    await storage.log.close();
  });

  test('a last record whose write stopped halfway into the space allocated ahead (zeros after it) is cut off too', async () => {
    const { dir, path, bytes } = await closedJournal(5);
    const last = recordOffsets(bytes).at(-1)!;
    const end = recordsEnd(bytes);
    const torn = Buffer.from(bytes);
    torn.fill(0, last + Math.floor((end - last) / 2), end);
    writeFileSync(path, torn);
    const storage = await openAt(dir);
    assert.equal(storage.initial.position.seq, 4);
    await storage.log.close();
  });

  test('a hole of zeros with valid records after it is refused, not cut: the records after it may have been answered', async () => {
    const { dir, path, bytes } = await closedJournal(8);
    const offsets = recordOffsets(bytes);
    const holed = Buffer.from(bytes);
    holed.fill(0, offsets[5]!, offsets[6]!);
    writeFileSync(path, holed);
    await assert.rejects(openAt(dir), new RegExp(`at byte ${offsets[5]}: zeros where a record should start, followed by valid records \\(seq 6 at byte ${offsets[6]}\\)`));
    assert.deepEqual(readFileSync(path), holed, 'nothing was cut');
  });

  test('a last record that is all there but altered is corruption, not a crash: refused', async () => {
    const { dir, path, bytes } = await closedJournal(5);
    const last = recordOffsets(bytes).at(-1)!;
    const altered = Buffer.from(bytes);
    altered[last + RECORD_HEADER_BYTES + 30] = altered[last + RECORD_HEADER_BYTES + 30]! ^ 0x01;
    writeFileSync(path, altered);
    await assert.rejects(openAt(dir), new RegExp(`at byte ${last}: a checksum that does not match`));
  });

  test('a record corrupted in the middle stops the start, naming the file and the offset, and changes nothing', async () => {
    const { dir, path, bytes } = await closedJournal(10);
    const middle = recordOffsets(bytes)[5]!;
    const damaged = Buffer.from(bytes);
    const flipped = middle + RECORD_HEADER_BYTES + 20;
    damaged[flipped] = damaged[flipped]! ^ 0xff;
    writeFileSync(path, damaged);
    await assert.rejects(openAt(dir), (error: Error) => {
      assert.ok(error instanceof StorageStartError);
      assert.ok(error.message.includes(path), error.message);
      assert.ok(error.message.includes(`at byte ${middle}`), error.message);
      return true;
    });
    assert.deepEqual(readFileSync(path), damaged, 'nothing was overwritten');
    // The lock was released: a second start gets the same refusal, not a lock's.
    await assert.rejects(openAt(dir), (error: Error) => error.message.includes(`at byte ${middle}`));
  });

  test('a data folder that cannot be written, or one held by a running instance, refuses to start with what to do', async (t) => {
    const file = join(folder(), 'not-a-folder');
    writeFileSync(file, 'x');
    await assert.rejects(openAt(join(file, 'data')), /cannot use the data folder .*set DATA_DIR/);
    const dir = folder();
    const held = await openAt(dir);
    await assert.rejects(openAt(dir), /already open in this process/);
    await held.log.close();
    // Another process holds it: start one and try.
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../src/main.ts', import.meta.url).pathname], { env: { ...process.env, PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    await new Promise<void>((resolve) => child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), stderr.includes('liveorders: http') && resolve())));
    await assert.rejects(openAt(dir), new RegExp(`in use by process ${child.pid}`));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const taken = await openAt(dir);
    assert.equal(taken.initial.position.seq, 0, 'a lock left by a killed process is taken over');
    await taken.log.close();
  });
});

describe('journal: what it reports', () => {
  test('/healthz and /api/stats say the mode, the last durable seq, the journal size, compactions and flush times', async () => {
    const dir = folder();
    const srv = await serverAt(dir);
    for (let i = 0; i < 3; i++) await request(srv.base, 'POST', '/api/orders', orderBody(`c${i}`));
    const health = (await request(srv.base, 'GET', '/healthz')).body as { status: string; ready: boolean; storage: Record<string, unknown> };
    assert.equal(health.status, 'ok');
    assert.equal(health.ready, true);
    assert.equal(health.storage.mode, 'journal');
    assert.equal(health.storage.durableSeq, 3);
    assert.ok((health.storage.journalBytes as number) > 0);
    assert.equal(typeof (health.storage.flushes as { p50Ms: number }).p50Ms, 'number');
    assert.ok('lastCompaction' in health.storage);
    assert.equal(health.storage.dataDir, undefined, 'no path on the public health check');
    const stats = (await request(srv.base, 'GET', '/api/stats')).body as { storage: Record<string, unknown> };
    assert.equal(stats.storage.dataDir, dir);
    await srv.close();
  });
});

describe('journal: across restarts', () => {
  test('a WebSocket client resumes across a restart without a reset, and gets exactly what it missed', async () => {
    const dir = folder();
    const first = await serverAt(dir);
    for (let i = 0; i < 3; i++) await request(first.base, 'POST', '/api/orders', orderBody(`before ${i}`));
    const { client, snapshot } = await connect(`${first.wsBase}/ws`);
    await request(first.base, 'POST', '/api/orders', orderBody('seen'));
    await client.until(() => client.events.length === 1, 'one event');
    const last = client.events[0]!.seq;
    await first.close();
    const second = await serverAt(dir);
    assert.equal(second.server.epoch, snapshot.epoch, 'the same history');
    await request(second.base, 'POST', '/api/orders', orderBody('while away'));
    const back = new TestClient(`${second.wsBase}/ws?since=${last}&epoch=${snapshot.epoch}`);
    const resumed = await back.next();
    assert.equal(resumed.type, 'resumed');
    await back.until(() => back.events.length === 1, 'the missed event');
    assert.deepEqual(back.events.map((e) => [e.seq, e.order.customerName]), [[last + 1, 'while away']]);
    back.close();
    await second.close();
  });

  test('a POST retried with the same Idempotency-Key after a restart gets the first answer', async () => {
    const dir = folder();
    const first = await serverAt(dir);
    const answer = await request(first.base, 'POST', '/api/orders', orderBody('Once'), { 'idempotency-key': 'order-7781' });
    assert.equal(answer.status, 201);
    await first.close();
    const second = await serverAt(dir);
    const retry = await request(second.base, 'POST', '/api/orders', orderBody('Once'), { 'idempotency-key': 'order-7781' });
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body, answer.body, 'the first answer, tracking token included');
    const token = (answer.body as CreatedOrder).trackingToken;
    assert.equal((await request(second.base, 'GET', `/api/track/${token}`)).status, 200, 'the tracking link outlived the restart');
    assert.equal(second.server.orders.size, 1);
    await second.close();
  });

  test('compaction during a write burst with a watcher: nothing lost, repeated or reordered; a restart after it replays the same', async () => {
    const dir = folder();
    const srv = await serverAt(dir, { compactAfterBytes: 32 * 1024 });
    const { client, snapshot } = await connect(`${srv.wsBase}/ws`);
    const created = await pool(20, Array.from({ length: 600 }, (_, i) => () => request(srv.base, 'POST', '/api/orders', orderBody(`burst ${i}`))));
    assert.ok(created.every((r) => r.status === 201));
    const moved = await pool(20, created.slice(0, 300).map((r) => () => request(srv.base, 'PUT', `/api/orders/${(r.body as Order).id}/status`, { status: 'shipped' })));
    assert.ok(moved.every((r) => r.status === 200));
    await client.until(() => client.events.length === 900, '900 events');
    assert.deepEqual(client.events.map((e) => e.seq), Array.from({ length: 900 }, (_, i) => snapshot.seq + i + 1));
    const journalStats = (): { lastCompaction: { seq: number; removed: number } | null } => srv.server.storage.log.stats() as unknown as { lastCompaction: { seq: number; removed: number } | null };
    await waitFor(() => journalStats().lastCompaction !== null, 'a compaction');
    const stats = journalStats() as { lastCompaction: { seq: number; removed: number } };
    assert.ok(stats.lastCompaction.seq > 0);
    const before = srv.server.orders.list({ limit: 1000 }).orders;
    client.close();
    await srv.close();
    const files = readdirSync(dir);
    assert.equal(files.filter((n) => n.startsWith('snapshot-')).length, 1, `one snapshot: ${files.join(', ')}`);
    const again = await serverAt(dir);
    assert.equal(again.server.orders.position.seq, 900);
    assert.deepEqual(again.server.orders.list({ limit: 1000 }).orders, before);
    await again.close();
  });
});
