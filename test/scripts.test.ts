/**
 * The helper scripts as real processes: `npm run cluster` (redis-server and
 * N instances sharing it, prefixed output, everything stopped and its
 * folder removed on SIGINT) and `npm run demo` (the service on a temporary
 * folder with orders that come in and move along; the board and a working
 * customer link printed; SIGINT stops it and removes the folder).
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { Order } from '../src/protocol.ts';
import { request, waitFor } from './helpers.ts';
import { PROJECT } from './cli-process.ts';
import { redisRequirement } from './redis-server.ts';

/** A script run as `npm run X` would run it (tsx), with its output collected. */
class Script {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | string>;

  constructor(path: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: PROJECT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  async waitFor(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(() => (match = pattern.exec(this.stdout)) !== null || this.child.exitCode !== null, what, timeoutMs);
    if (match === null) throw new Error(`exited before ${what}:\n${this.stdout}\n${this.stderr}`);
    return match;
  }
}

/** Whether something still answers at `base`. */
async function answers(base: string): Promise<boolean> {
  try {
    await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    // Connection refused: nothing listens there any more.
    return false;
  }
}

const redis = redisRequirement();

describe('npm run cluster', { skip: redis.skip }, () => {
  test('redis and two instances that share orders, prefixed output, all stopped and the folder removed on SIGINT', async () => {
    const cluster = new Script('scripts/cluster.ts', ['--instances', '2', '--port', '0'], { LOG_LEVEL: 'info' });
    const ready = await cluster.waitFor(/cluster: ready · redis (\S+) \(files in (\S+)\) · instance 1 (\S+) · instance 2 (\S+)\n/, 'the ready line');
    const [, redisUrl, dir, first, second] = ready as unknown as [string, string, string, string, string];
    assert.match(redisUrl, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(dir), 'Redis works in its temporary folder');
    assert.ok(!dir.startsWith(PROJECT), 'not in the checkout');
    const created = await request(first, 'POST', '/api/orders', { customerName: 'Shared', items: ['x'] });
    assert.equal(created.status, 201);
    const id = (created.body as Order).id;
    const seen = await request(second, 'GET', `/api/orders/${id}`);
    assert.equal(seen.status, 200, 'the other instance has the order');
    await cluster.waitFor(/^\[instance 2\] .*"msg":"request".*"status":200/m, 'a request line of instance 2, prefixed');
    assert.match(cluster.stdout, /^\[redis\] /m);
    assert.match(cluster.stdout, /^\[instance 1\] liveorders: http:/m);
    cluster.child.kill('SIGINT');
    assert.equal(await cluster.exited, 0, cluster.stderr);
    assert.match(cluster.stdout, /cluster: stopped; removed /);
    assert.equal(existsSync(dir), false, 'the folder is gone');
    assert.equal(await answers(first), false);
    assert.equal(await answers(second), false);
  });

  test('an instance that cannot start (its port taken) stops everything with exit 1', async () => {
    const holder = new Script('scripts/cluster.ts', ['--instances', '1', '--port', '0']);
    const [, , , base] = (await holder.waitFor(/cluster: ready · redis (\S+) \(files in (\S+)\) · instance 1 (\S+)\n/, 'the first cluster')) as unknown as [string, string, string, string];
    const port = new URL(base).port;
    const clash = new Script('scripts/cluster.ts', ['--instances', '1', '--port', port]);
    assert.equal(await clash.exited, 1);
    assert.match(clash.stderr, /instance 1 exited/);
    holder.child.kill('SIGINT');
    assert.equal(await holder.exited, 0);
  });
});

describe('npm run demo', () => {
  test('orders come in and move along; the board and a customer link are printed; SIGINT stops it and removes the folder', async () => {
    const demo = new Script('scripts/demo.ts', ['--pace', '40'], { PORT: '0' });
    const [, board] = (await demo.waitFor(/demo: the board +(\S+)\n/, 'the board line')) as unknown as [string, string];
    const [, link] = (await demo.waitFor(/demo: a customer's page +(\S+)/, 'the customer link')) as unknown as [string, string];
    const [, dir] = (await demo.waitFor(/data in (\S+);/, 'the data folder')) as unknown as [string, string];
    assert.ok(existsSync(dir));
    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const token = new URL(link).pathname.split('/').at(-1)!;
    const tracked = await request(board.replace(/\/$/, ''), 'GET', `/api/track/${token}`);
    assert.equal(tracked.status, 200, 'the link opens an order');
    // The generator moves orders along by itself.
    await demo.waitFor(/demo: [0-9a-f]{8} pending -> processing/, 'an order moved along');
    const list = await request(board.replace(/\/$/, ''), 'GET', '/api/orders?status=processing,shipped,delivered,cancelled');
    assert.ok((list.body as Order[]).length >= 1);
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0, demo.stderr);
    assert.match(demo.stdout, /demo: stopped; removed /);
    assert.equal(existsSync(dir), false);
    assert.equal(await answers(board.replace(/\/$/, '')), false);
  });
});
