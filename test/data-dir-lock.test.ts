/**
 * The data folder's lock with real processes: two starts at once on one
 * folder (with a LOCK file left behind or none) give exactly one holder;
 * `kill -9` of the whole `npm start` group followed at once by a restart,
 * as a supervisor does, always starts; a LOCK file naming a live but
 * unrelated process, or another host, does not block; a live holder is
 * named in the refusal; a clean stop leaves no lock process behind; without
 * flock the O_EXCL fallback still keeps a second instance out.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { orderBody, request } from './helpers.ts';
import { MAIN, allOrders, startInstance } from './processes.ts';
import { requirement } from './requirements.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const WORKER = new URL('./fixtures/lock-worker.ts', import.meta.url).pathname;
const flock = requirement('flock', ['--version'], 'util-linux flock(1) (apt-get install util-linux)');

const folders: string[] = [];
after(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-lock-'));
  folders.push(dir);
  return dir;
}

/** A LOCK file as an earlier boot leaves it: naming a pid, a host and a start time. */
function writeLockFile(dir: string, pid: number, host = hostname()): void {
  writeFileSync(join(dir, 'LOCK'), `${JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z' })}\n`);
}

/** A pid that no process has any more (it ran and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A lock worker (test/fixtures/lock-worker.ts): takes and releases locks when told. */
class LockWorker {
  readonly child: ChildProcess;
  readonly #answers: Record<string, unknown>[] = [];
  #wake: (() => void) | undefined;

  constructor() {
    this.child = spawn(process.execPath, ['--import', 'tsx', WORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.#answers.push(JSON.parse(line) as Record<string, unknown>);
      this.#wake?.();
    });
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async next(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    while (this.#answers.length === 0) {
      assert.ok(Date.now() < deadline, 'the lock worker did not answer');
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 500);
      });
    }
    return this.#answers.shift()!;
  }
}

/** A started server process: listening at `base`, or exited with `code`, and what it wrote to stderr. */
interface Launched {
  readonly child: ChildProcess;
  readonly base?: string;
  readonly code?: number | null;
  readonly stderr: () => string;
}

/**
 * Start a process that runs the service and resolve once it listens or exits.
 * @param command the program
 * @param args its arguments
 * @param env added to this process's environment
 * @param detached in a process group of its own (to `kill -9` the whole group)
 */
function launch(command: string, args: string[], env: Record<string, string>, detached = false): Promise<Launched> {
  const child = spawn(command, args, { cwd: ROOT, detached, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`neither listening nor exited: ${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /liveorders: (http:\/\/[^\s]+)/.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, base: m[1]!, stderr: () => stderr });
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ child, code, stderr: () => stderr });
    });
  });
}

/** `node --import tsx src/main.ts` on `dir`. */
function launchServer(dir: string, env: Record<string, string> = {}): Promise<Launched> {
  return launch(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dir, ...env });
}

async function stop(launched: Launched): Promise<void> {
  if (launched.child.exitCode !== null || launched.child.signalCode !== null) return;
  const exited = new Promise((resolve) => launched.child.once('exit', resolve));
  launched.child.kill('SIGTERM');
  await exited;
}

/** Processes whose command line names `path` (the lock's children hold it in their arguments). */
function processesNaming(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(path)) pids.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return pids;
}

describe('the data folder lock', { skip: flock.skip }, () => {
  test('two starts at once on one folder (LOCK left by a dead process, by a live unrelated one, or none): exactly one holds it, 50 tries', async (t) => {
    const workers = [new LockWorker(), new LockWorker()];
    t.after(() => workers.forEach((w) => w.child.kill('SIGKILL')));
    const dead = await deadPid();
    let leftBehind = 0;
    for (let i = 0; i < 50; i++) {
      const dir = folder();
      if (i % 3 === 1) writeLockFile(dir, dead);
      if (i % 3 === 2) writeLockFile(dir, process.pid);
      if (i % 3 !== 0) leftBehind++;
      // The loser may wait a little (a holder that is dying); the winner holds until both have answered.
      for (const w of workers) w.send({ take: dir, waitMs: 100 });
      const answers = await Promise.all(workers.map((w) => w.next()));
      const holders = answers.filter((a) => a.held === true);
      assert.equal(holders.length, 1, `try ${i}: ${JSON.stringify(answers)}`);
      const refusal = String(answers.find((a) => a.held === false)!.error);
      assert.ok(refusal.includes(`the data folder ${dir} is in use`), refusal);
      const winner = workers[answers.indexOf(holders[0]!)]!;
      winner.send({ release: true });
      assert.deepEqual(await winner.next(), { released: true });
    }
    t.diagnostic(`50 races, ${leftBehind} of them over a LOCK file left behind: one holder each time`);
  });

  test('two whole servers started at once on one folder: one serves, the other exits naming the folder', async (t) => {
    for (const stale of [true, false]) {
      const dir = folder();
      if (stale) writeLockFile(dir, await deadPid());
      const both = await Promise.all([launchServer(dir), launchServer(dir)]);
      t.after(() => both.forEach((s) => s.child.kill('SIGKILL')));
      const serving = both.filter((s) => s.base !== undefined);
      assert.equal(serving.length, 1, both.map((s) => s.stderr()).join('\n'));
      const refused = both.find((s) => s.base === undefined)!;
      assert.equal(refused.code, 2);
      assert.match(refused.stderr(), new RegExp(`the data folder ${dir} is in use by process ${serving[0]!.child.pid}`));
      assert.equal((await request(serving[0]!.base!, 'POST', '/api/orders', orderBody())).status, 201);
      await stop(serving[0]!);
    }
  });

  test('kill -9 of the whole npm start group, then an immediate restart, 20 times: every start serves and keeps every answered write', async (t) => {
    const dir = folder();
    let running: Launched | undefined;
    t.after(() => {
      if (running !== undefined) process.kill(-running.child.pid!, 'SIGKILL');
    });
    const started = Date.now();
    for (let cycle = 0; cycle < 20; cycle++) {
      running = await launch('npm', ['start'], { DATA_DIR: dir }, true);
      assert.ok(running.base !== undefined, `cycle ${cycle}: the restart was refused: ${running.stderr()}`);
      assert.equal((await request(running.base, 'POST', '/api/orders', orderBody(`cycle ${cycle}`))).status, 201);
      // As a supervisor does: kill the group, start again at once (the killed server may still be a zombie).
      process.kill(-running.child.pid!, 'SIGKILL');
      running = undefined;
    }
    t.diagnostic(`20 kill -9 + restart cycles in ${Date.now() - started} ms`);
    const last = await startInstance({ DATA_DIR: dir });
    t.after(() => last.child.kill('SIGKILL'));
    assert.equal((await allOrders(last.base)).length, 20);
  });

  test('a LOCK file left by an earlier boot naming a live unrelated process, or another host, does not block the start', async (t) => {
    const dir = folder();
    for (const [pid, host] of [[process.pid, hostname()], [process.pid, 'rescheduled-pod-7f9c']] as const) {
      writeLockFile(dir, pid, host);
      const server = await launchServer(dir);
      t.after(() => server.child.kill('SIGKILL'));
      assert.ok(server.base !== undefined, `refused over a LOCK naming ${pid} on ${host}: ${server.stderr()}`);
      assert.equal((await request(server.base, 'GET', '/healthz')).status, 200);
      // The LOCK file now names the holder, for people.
      assert.equal((JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as { pid: number }).pid, server.child.pid);
      await stop(server);
    }
  });

  test('a live holder refuses a second start with the folder and its pid; a clean stop leaves no lock process, and the next start serves', async (t) => {
    const dir = folder();
    const first = await launchServer(dir);
    t.after(() => first.child.kill('SIGKILL'));
    assert.ok(first.base !== undefined, first.stderr());
    const lockPath = join(dir, 'LOCK');
    assert.equal(processesNaming(lockPath).length > 0, true, 'a child holds the lock');
    const second = await launchServer(dir);
    t.after(() => second.child.kill('SIGKILL'));
    assert.equal(second.code, 2, second.stderr());
    assert.match(second.stderr(), new RegExp(`the data folder ${dir} is in use by process ${first.child.pid} on host ${hostname()}`));
    await stop(first);
    assert.equal(first.child.exitCode, 0);
    assert.deepEqual(processesNaming(lockPath), [], 'the lock process ended with the server');
    const third = await launchServer(dir);
    t.after(() => third.child.kill('SIGKILL'));
    assert.ok(third.base !== undefined, third.stderr());
    await stop(third);
  });
});

describe('the data folder lock without flock', () => {
  test('falls back to an O_EXCL LOCK file with a warning, which still keeps a second instance out', async (t) => {
    const dir = folder();
    // No flock on PATH (node and the shell are named by absolute paths).
    const env = { PATH: '/nonexistent' };
    const first = await launchServer(dir, env);
    t.after(() => first.child.kill('SIGKILL'));
    assert.ok(first.base !== undefined, first.stderr());
    assert.match(first.stderr(), /cannot be locked by the kernel; using a lock file instead.*flock \(util-linux\) is not on PATH/);
    const second = await launchServer(dir, env);
    t.after(() => second.child.kill('SIGKILL'));
    assert.equal(second.code, 2, second.stderr());
    assert.match(second.stderr(), new RegExp(`the data folder ${dir} is in use by process ${first.child.pid}`));
    await stop(first);
    assert.ok(!readdirSync(dir).includes('LOCK'), 'the fallback removes its lock file on a clean stop');
  });
});
