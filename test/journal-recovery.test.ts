/**
 * The journal after crashes and damage: a start with several segments
 * (closed ones ending in zeros written by earlier versions), a crash at
 * each step of a compaction (and a real `kill -9` during one), one corrupt
 * byte anywhere in a small journal (refused, or nothing answered is lost),
 * a flipped length bit in the middle (refused, naming file and offset, the
 * file untouched), a missing segment in the middle of the history, and
 * `npm run journal -- check|repair`.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Order } from '../src/protocol.ts';
import { createServer } from '../src/server.ts';
import { JournalLog, openJournalStorage, StorageStartError, type Storage } from '../src/store.ts';
import { writeSnapshot } from '../src/store/journal/compaction.ts';
import { segmentName } from '../src/store/journal/files.ts';
import { RECORD_HEADER_BYTES } from '../src/store/journal/records.ts';
import { newSegment } from '../src/store/journal/segments.ts';
import { captureLogger, orderBody, pool, request } from './helpers.ts';
import { MAIN, allOrders, startProcess } from './processes.ts';

const run = promisify(execFile);

/** Space allocated ahead in the journals the properties copy many times. */
const SMALL_PREALLOCATION = 16 * 1024;
const folders: string[] = [];
after(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A new, empty folder. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-recovery-'));
  folders.push(dir);
  return dir;
}

/** A copy of a folder (without its lock: the copy is not open). */
function copyOf(dir: string): string {
  const copy = folder();
  cpSync(dir, copy, { recursive: true, filter: (source) => !source.endsWith('/LOCK') });
  return copy;
}

/** Open the journal in `dir` directly (with the default space allocated ahead unless `preallocateBytes` says). */
async function openAt(dir: string, options: { lines?: Record<string, unknown>[]; preallocateBytes?: number } = {}): Promise<Storage> {
  const captured = captureLogger();
  const storage = await openJournalStorage({
    dir,
    logger: captured.logger,
    onSinkError: (error) => {
      throw error;
    },
    ...(options.preallocateBytes === undefined ? {} : { preallocateBytes: options.preallocateBytes }),
  });
  options.lines?.push(...captured.lines);
  return storage;
}

/** A server on the journal in `dir`. */
async function serverAt(dir: string, preallocateBytes?: number): Promise<{ base: string; close(): Promise<void> }> {
  const storage = await openAt(dir, preallocateBytes === undefined ? {} : { preallocateBytes });
  const server = createServer({ port: 0, storage, logger: captureLogger().logger });
  const address = await server.listen();
  return { base: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

/** Create orders through a server; returns them as answered. */
async function create(base: string, names: string[]): Promise<Order[]> {
  const answers = await pool(8, names.map((name) => () => request(base, 'POST', '/api/orders', orderBody(name))));
  for (const answer of answers) assert.equal(answer.status, 201, answer.text);
  // As stored: the tracking token is in the create's answer only.
  return answers.map((answer) => {
    const { trackingToken: _, ...order } = answer.body as Order & { trackingToken: string };
    return order;
  });
}

/** A folder whose server created `count` orders and stopped cleanly: the folder and every order. */
async function journalOf(count: number, prefix = 'o', preallocateBytes?: number): Promise<{ dir: string; orders: Order[] }> {
  const dir = folder();
  const srv = await serverAt(dir, preallocateBytes);
  const orders = await create(srv.base, Array.from({ length: count }, (_, i) => `${prefix}${i}`));
  await srv.close();
  return { dir, orders };
}

/** The segment files of a folder, oldest first. */
function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('journal-')).sort();
}

/** The offsets where the records of a segment start, up to its zeros or its end. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at + RECORD_HEADER_BYTES <= bytes.length && bytes.readUInt32BE(at) !== 0; at += RECORD_HEADER_BYTES + bytes.readUInt32BE(at)) offsets.push(at);
  return offsets;
}

/** Where a segment's records end. */
function recordsEnd(bytes: Buffer): number {
  const last = recordOffsets(bytes).at(-1)!;
  return last + RECORD_HEADER_BYTES + bytes.readUInt32BE(last);
}

/** The epoch in a folder's identity file. */
function epochOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as { epoch: string }).epoch;
}

/** Assert that a start of `dir` has exactly `orders` (by id, all fields), then close it. */
async function assertStartsWith(dir: string, orders: readonly Order[], what: string): Promise<void> {
  const storage = await openAt(dir);
  try {
    const byId = new Map(storage.initial.orders.map((o) => [o.id, o]));
    assert.equal(byId.size, orders.length, `${what}: ${byId.size} orders where ${orders.length} were answered`);
    for (const order of orders) assert.deepEqual(byId.get(order.id), order, `${what}: order ${order.customerName}`);
  } finally {
    await storage.log.close();
  }
}

/** Every file of a folder and its bytes (the lock aside). */
function contents(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).filter((name) => name !== 'LOCK').sort().map((name) => [name, readFileSync(join(dir, name))]));
}

describe('journal recovery: several segments', () => {
  test('a closed segment ending in zeros (written before compaction cut them) starts, with every order', async () => {
    const { dir, orders } = await journalOf(6);
    const [first] = segmentFiles(dir);
    // An earlier version left the preallocated zeros at the end of a segment it rolled from: a roll without a snapshot (a compaction that failed).
    assert.ok(statSync(join(dir, first!)).size > recordsEnd(readFileSync(join(dir, first!))), 'the segment ends in zeros');
    const next = await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024);
    await next.handle.close();
    const srv = await serverAt(dir);
    const more = await create(srv.base, ['after roll 1', 'after roll 2']);
    await srv.close();
    assert.deepEqual(segmentFiles(dir), [first, segmentName(orders.length + 1)]);
    await assertStartsWith(dir, [...orders, ...more], 'two segments, the older one ending in zeros');
    // And a third, so a middle one ends in zeros too.
    const third = await newSegment(dir, epochOf(dir), orders.length + more.length + 1, 64 * 1024);
    await third.handle.close();
    await assertStartsWith(dir, [...orders, ...more], 'three segments ending in zeros');
  });

  test('a resume older than the memory holds reads across a closed segment ending in zeros, without a reset', async () => {
    const { dir, orders } = await journalOf(6);
    await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
    const storage = await openJournalStorage({ dir, logger: captureLogger().logger, onSinkError: () => undefined, historyCapacity: 2 });
    const server = createServer({ port: 0, storage, logger: captureLogger().logger });
    try {
      const base = `http://127.0.0.1:${(await server.listen()).port}`;
      await create(base, ['after roll 1', 'after roll 2']);
      const replayed = await storage.log.replay({ seq: 1, epoch: epochOf(dir) }, 100);
      assert.ok(replayed !== 'reset', 'no reset');
      assert.deepEqual(replayed.map((e) => e.seq), [2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await server.close();
    }
  });

  test('a compaction that fails after its roll (the snapshot cannot be written) leaves the old segment ending at its last record; a clean restart has every order', async () => {
    const { dir, orders } = await journalOf(6);
    const storage = await openAt(dir);
    // A folder in the snapshot's place: its rename fails, as a full disk fails its write, after the roll.
    const blocker = join(dir, `snapshot-${String(orders.length).padStart(16, '0')}.snap`);
    mkdirSync(blocker);
    await (storage.log as JournalLog).compact();
    await storage.log.close();
    rmdirSync(blocker);
    const [old, current] = segmentFiles(dir);
    assert.equal(current, segmentName(orders.length + 1), 'the compaction rolled to a new segment');
    const bytes = readFileSync(join(dir, old!));
    assert.equal(bytes.length, recordsEnd(bytes), `${old} ends at its last record, not in zeros`);
    await assertStartsWith(dir, orders, 'the restart after a failed compaction');
  });
});

describe('journal recovery: a crash at each step of a compaction', () => {
  /**
   * The on-disk states a compaction passes through, from a journal of
   * `orders` in one segment: each builds the state in `dir`.
   */
  const steps: { name: string; build(dir: string, orders: readonly Order[]): Promise<void> }[] = [
    {
      name: 'the new segment created, still empty',
      build: async (dir, orders) => writeFileSync(join(dir, segmentName(orders.length + 1)), ''),
    },
    {
      name: 'the new segment allocated (zeros), its header not yet written',
      build: async (dir, orders) => writeFileSync(join(dir, segmentName(orders.length + 1)), Buffer.alloc(64 * 1024)),
    },
    {
      name: 'the new segment started, the old one not yet cut (zeros at its end)',
      build: async (dir, orders) => {
        await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
      },
    },
    {
      name: 'the old segment cut, a temp snapshot half written',
      build: async (dir, orders) => {
        await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
        cutToRecords(join(dir, segmentFiles(dir)[0]!));
        writeFileSync(join(dir, `snapshot-${String(orders.length).padStart(16, '0')}.snap.4242.tmp`), Buffer.from('{"journal":"liveorders snap'));
      },
    },
    {
      name: 'a temp snapshot half written, the old segment not cut (zeros at its end)',
      build: async (dir, orders) => {
        await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
        writeFileSync(join(dir, `snapshot-${String(orders.length).padStart(16, '0')}.snap.4242.tmp`), Buffer.from('{"journal":"liveorders snap'));
      },
    },
    {
      name: 'the snapshot renamed into place, the old segment (zeros at its end) not yet removed',
      build: async (dir, orders) => {
        await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
        await writeSnapshot(dir, epochOf(dir), orders.length, orders, []);
      },
    },
    {
      name: 'the old segment removed',
      build: async (dir, orders) => {
        await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
        await writeSnapshot(dir, epochOf(dir), orders.length, orders, []);
        unlinkSync(join(dir, segmentFiles(dir)[0]!));
      },
    },
  ];

  let base: { dir: string; orders: Order[] };
  before(async () => {
    base = await journalOf(12);
  });

  for (const step of steps) {
    test(`crash after: ${step.name} → the start has every order, takes writes, and a restart keeps them`, async () => {
      const dir = copyOf(base.dir);
      await step.build(dir, base.orders);
      await assertStartsWith(dir, base.orders, step.name);
      const srv = await serverAt(dir);
      const more = await create(srv.base, ['after the crash']);
      await srv.close();
      await assertStartsWith(dir, [...base.orders, ...more], `${step.name}, then a write and a restart`);
    });
  }

  test('a compaction that failed (its snapshot could not be written) leaves a folder a clean restart starts, with every order', async () => {
    const dir = copyOf(base.dir);
    // What a full disk leaves: the roll happened, the temp snapshot was removed with the error.
    await (await newSegment(dir, epochOf(dir), base.orders.length + 1, 64 * 1024)).handle.close();
    const srv = await serverAt(dir);
    const more = await create(srv.base, ['after the failed compaction']);
    await srv.close();
    await assertStartsWith(dir, [...base.orders, ...more], 'restart after a failed compaction');
  });

  test('kill -9 of a server process while a compaction runs (small COMPACT_AFTER_BYTES): every restart has every answered order', async (t) => {
    const dir = folder();
    const answered = new Map<string, string>();
    let caught = 0;
    for (let round = 0; round < 8 && caught < 2; round++) {
      const { child, base: url, exited } = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dir, COMPACT_AFTER_BYTES: '65536' });
      t.after(() => child.kill('SIGKILL'));
      const present = new Map((await allOrders(url)).map((o) => [o.id, o.customerName]));
      for (const [id, name] of answered) assert.equal(present.get(id), name, `round ${round}: order ${name} (answered 201) is there`);
      // Kill the moment a compaction rolls to a new segment (then fills 4 MiB of it with zeros and syncs) or starts its snapshot.
      const known = new Set(readdirSync(dir));
      const watcher = watch(dir, (_, name) => {
        if (name !== null && !known.has(name) && (name.startsWith('journal-') || name.endsWith('.tmp'))) child.kill('SIGKILL');
      });
      let stop = false;
      void exited.then(() => (stop = true));
      // A round whose compaction never comes ends anyway (it then does not count as caught).
      const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const name = `r${round}w${w}n${i}`;
          try {
            const res = await request(url, 'POST', '/api/orders', orderBody(name));
            if (res.status === 201) answered.set((res.body as Order).id, name);
          } catch {
            return; // killed
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, w) => writer(w)));
      watcher.close();
      clearTimeout(deadline);
      await exited;
      const files = readdirSync(dir);
      if (files.filter((n) => n.startsWith('journal-')).length > 1 || files.some((n) => n.endsWith('.tmp'))) {
        caught++;
        t.diagnostic(`round ${round}: killed during a compaction, leaving ${files.filter((n) => n !== 'LOCK').join(', ')}`);
      }
    }
    assert.ok(caught > 0, 'at least one kill landed during a compaction');
    const last = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dir });
    t.after(() => last.child.kill('SIGKILL'));
    const present = new Map((await allOrders(last.base)).map((o) => [o.id, o.customerName]));
    for (const [id, name] of answered) assert.equal(present.get(id), name, `order ${name} (answered 201) is there at the end`);
    t.diagnostic(`${answered.size} orders answered, ${caught} kills during a compaction`);
    last.child.kill('SIGKILL');
  });
});

/** Cut a segment at the end of its records (as a compaction now does). */
function cutToRecords(path: string): void {
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, recordsEnd(bytes)));
}

describe('journal recovery: damage in the current segment', () => {
  let base: { dir: string; orders: Order[] };
  before(async () => {
    // Little space allocated ahead: the property copies these files hundreds of times.
    base = await journalOf(40, 'customer number ', SMALL_PREALLOCATION);
  });

  test('a flipped bit in the length of a record in the middle is refused, naming the file and the offset, and the file is unchanged', async () => {
    const dir = copyOf(base.dir);
    const path = join(dir, segmentFiles(dir)[0]!);
    const bytes = readFileSync(path);
    const middle = recordOffsets(bytes)[20]!;
    const damaged = Buffer.from(bytes);
    damaged[middle + 3] = damaged[middle + 3]! ^ 0x10;
    writeFileSync(path, damaged);
    await assert.rejects(openAt(dir), (error: Error) => {
      assert.ok(error instanceof StorageStartError, String(error));
      assert.ok(error.message.includes(`${path} does not read back at byte ${middle}`), error.message);
      assert.doesNotMatch(error.message, /move (this|the) file/);
      return true;
    });
    assert.equal(statSync(path).size, bytes.length, 'the same size');
    assert.deepEqual(readFileSync(path), damaged, 'the same bytes');
  });

  test('a zeroed 4 KiB page in the middle is refused, and the file is unchanged', async () => {
    const dir = copyOf(base.dir);
    const path = join(dir, segmentFiles(dir)[0]!);
    const damaged = readFileSync(path);
    damaged.fill(0, 4096, 8192);
    writeFileSync(path, damaged);
    await assert.rejects(openAt(dir), /does not read back at byte \d+: .*followed by valid records/);
    assert.deepEqual(readFileSync(path), damaged);
  });

  test('one corrupt byte anywhere (at and around every record boundary, and within records) is refused or loses nothing answered (property)', async (t) => {
    await corruptOneByte(t, base, segmentFiles(base.dir)[0]!);
  });

  test('the same in a journal of two segments, the older one ending in zeros, for a byte in either (property)', async (t) => {
    const dir = copyOf(base.dir);
    await (await newSegment(dir, epochOf(dir), base.orders.length + 1, SMALL_PREALLOCATION)).handle.close();
    const srv = await serverAt(dir, SMALL_PREALLOCATION);
    const more = await create(srv.base, ['second 1', 'second 2', 'second 3']);
    await srv.close();
    const two = { dir, orders: [...base.orders, ...more] };
    for (const segment of segmentFiles(dir)) await corruptOneByte(t, two, segment, 150);
  });
});

/** One byte changed: flipped bits (`mask`) or zeroed. */
interface ByteChange {
  readonly zero: boolean;
  readonly mask: number;
}

/**
 * Start a copy of `base` with byte `at` of `segment` changed: either it is
 * refused and no file changed, or it starts with every order. Returns which,
 * or undefined when the change leaves the byte as it was.
 */
async function startWithOneByteChanged(base: { dir: string; orders: readonly Order[] }, segment: string, at: number, how: ByteChange): Promise<'refused' | 'started' | undefined> {
  const original = readFileSync(join(base.dir, segment));
  const damaged = Buffer.from(original);
  damaged[at] = how.zero ? 0 : damaged[at]! ^ how.mask;
  if (damaged[at] === original[at]) return undefined;
  const dir = copyOf(base.dir);
  try {
    writeFileSync(join(dir, segment), damaged);
    const before = contents(dir);
    let storage: Storage;
    try {
      storage = await openAt(dir);
    } catch (error) {
      assert.ok(error instanceof StorageStartError, String(error));
      assert.deepEqual(contents(dir), before, `refused at byte ${at} of ${segment}: no file changed`);
      return 'refused';
    }
    try {
      const byId = new Map(storage.initial.orders.map((o) => [o.id, o]));
      for (const order of base.orders) assert.deepEqual(byId.get(order.id), order, `byte ${at} of ${segment} ${how.zero ? 'zeroed' : `^${how.mask}`}: order ${order.customerName} is there`);
      return 'started';
    } finally {
      await storage.log.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every record boundary of `segment`, one change at a time: the length's
 * low byte and a bit that sends it into the zeros, the checksum, the
 * payload's first and last bytes zeroed. Then the property: one byte
 * changed at or around a boundary, anywhere in the records, or in the
 * zeros after them.
 */
async function corruptOneByte(t: { diagnostic(message: string): void }, base: { dir: string; orders: readonly Order[] }, segment: string, numRuns = 300): Promise<void> {
  const bytes = readFileSync(join(base.dir, segment));
  const offsets = recordOffsets(bytes);
  const end = recordsEnd(bytes);
  const counts = { refused: 0, started: 0 };
  const count = (outcome: 'refused' | 'started' | undefined): void => {
    if (outcome !== undefined) counts[outcome]++;
  };
  for (const [i, at] of offsets.entries()) {
    const payloadEnd = (offsets[i + 1] ?? end) - 1;
    count(await startWithOneByteChanged(base, segment, at + 3, { zero: false, mask: 0x01 }));
    count(await startWithOneByteChanged(base, segment, at + 1, { zero: false, mask: 0x10 }));
    count(await startWithOneByteChanged(base, segment, at + 4, { zero: false, mask: 0x01 }));
    count(await startWithOneByteChanged(base, segment, at + RECORD_HEADER_BYTES, { zero: true, mask: 0 }));
    count(await startWithOneByteChanged(base, segment, payloadEnd, { zero: true, mask: 0 }));
  }
  const boundary = fc.tuple(fc.constantFrom(...offsets, end), fc.integer({ min: -2, max: RECORD_HEADER_BYTES + 1 })).map(([at, delta]) => at + delta);
  const anywhere = fc.integer({ min: 0, max: end - 1 });
  const inTheZerosAfter = fc.integer({ min: end, max: end + 64 });
  const position = fc.oneof(boundary, anywhere, inTheZerosAfter).filter((at) => at >= 0 && at < bytes.length);
  const change = fc.oneof(fc.constant({ zero: true, mask: 0 }), fc.integer({ min: 1, max: 255 }).map((mask) => ({ zero: false, mask })));
  await fc.assert(
    fc.asyncProperty(position, change, async (at, how) => count(await startWithOneByteChanged(base, segment, at, how))),
    { numRuns },
  );
  assert.ok(counts.refused > 0, 'some were refused');
  t.diagnostic(`${segment}: ${counts.refused} refused, ${counts.started} started with every order`);
}

describe('journal recovery: a missing segment', () => {
  test('the segment that follows a snapshot, deleted: refused, not started from the snapshot', async () => {
    const { dir, orders } = await journalOf(5);
    await (await newSegment(dir, epochOf(dir), orders.length + 1, 64 * 1024)).handle.close();
    await writeSnapshot(dir, epochOf(dir), orders.length, orders, []);
    unlinkSync(join(dir, segmentFiles(dir)[0]!));
    const srv = await serverAt(dir);
    await create(srv.base, ['after the snapshot 1', 'after the snapshot 2']);
    await srv.close();
    const following = segmentName(orders.length + 1);
    unlinkSync(join(dir, following));
    const before = contents(dir);
    await assert.rejects(openAt(dir), (error: Error) => {
      assert.ok(error instanceof StorageStartError, String(error));
      assert.ok(error.message.includes(`${join(dir, following)} is missing`), error.message);
      return true;
    });
    assert.deepEqual(contents(dir), before, 'nothing changed (no new segment was started)');
  });

  test('a segment missing between two others: refused', async () => {
    const { dir, orders } = await journalOf(3);
    const epoch = epochOf(dir);
    await (await newSegment(dir, epoch, 4, 0)).handle.close();
    const srv = await serverAt(dir);
    await create(srv.base, ['second segment']);
    await srv.close();
    await (await newSegment(dir, epoch, orders.length + 2, 0)).handle.close();
    const srv2 = await serverAt(dir);
    await create(srv2.base, ['third segment']);
    await srv2.close();
    unlinkSync(join(dir, segmentName(4)));
    await assert.rejects(openAt(dir), new RegExp(`${segmentName(4)} is missing`));
  });
});

describe('npm run journal -- check|repair', () => {
  const tool = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run(process.execPath, ['--import', 'tsx', new URL('../cli/journal.ts', import.meta.url).pathname, ...args]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  test('check reports a torn tail and changes nothing; repair says what it cuts, cuts it, and the start has every answered order', async () => {
    const { dir, orders } = await journalOf(6);
    const path = join(dir, segmentFiles(dir)[0]!);
    const bytes = readFileSync(path);
    const end = recordsEnd(bytes);
    // A crash in the middle of a seventh write (never answered): half a record, then the zeros allocated ahead.
    const torn = Buffer.from(bytes);
    const seventh = Buffer.from(bytes.subarray(recordOffsets(bytes).at(-1)!, end));
    seventh.copy(torn, end, 0, Math.floor(seventh.length / 2));
    writeFileSync(path, torn);
    const before = contents(dir);
    const names = readdirSync(dir).sort();
    const check = await tool(['check', '--dir', dir]);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(readdirSync(dir).sort(), names, 'check made no file (not even a lock)');
    assert.match(check.stdout, new RegExp(`seq 6, 6 orders`));
    assert.match(check.stdout, new RegExp(`would cut ${segmentFiles(dir)[0]} at byte ${end} \\(${torn.length - end} bytes\\): a write a crash left unfinished`));
    assert.match(check.stdout, /Nothing was changed/);
    assert.deepEqual(contents(dir), before, 'check changed nothing');
    const repair = await tool(['repair', '--dir', dir]);
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, new RegExp(`cutting ${segmentFiles(dir)[0]} at byte ${end}`));
    assert.match(repair.stdout, /cut 1 torn tail; seq 6, 6 orders/);
    assert.equal(statSync(path).size, end, 'cut at the end of the last whole record');
    const again = await tool(['check', '--dir', dir]);
    assert.match(again.stdout, /a start reads every file as it is/);
    await assertStartsWith(dir, orders, 'after repair');
  });

  test('check and repair of a corrupt folder: the refusal, with file and offset; repair cuts nothing', async () => {
    const { dir } = await journalOf(10);
    const path = join(dir, segmentFiles(dir)[0]!);
    const damaged = readFileSync(path);
    const middle = recordOffsets(damaged)[4]!;
    damaged[middle + 2] = damaged[middle + 2]! ^ 0x01;
    writeFileSync(path, damaged);
    const before = contents(dir);
    const check = await tool(['check', '--dir', dir]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, new RegExp(`a start refuses this folder: ${path} does not read back at byte ${middle}`));
    const repair = await tool(['repair', '--dir', dir]);
    assert.equal(repair.code, 1);
    assert.match(repair.stdout, /nothing was cut/);
    assert.deepEqual(contents(dir), before, 'neither changed anything');
    const usage = await tool(['fix']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: npm run journal -- check\|repair/);
  });

  test('repair of a folder in use by a running instance refuses', async () => {
    const { dir } = await journalOf(1);
    const storage = await openAt(dir);
    try {
      // This process holds the lock file; a separate process sees it held by a running process.
      const repair = await tool(['repair', '--dir', dir]);
      assert.equal(repair.code, 1);
      assert.match(repair.stderr, /in use|already open|lock/i);
      assert.doesNotMatch(repair.stdout, /cutting/);
    } finally {
      await storage.log.close();
    }
  });
});
