/**
 * The README's nginx sample, run as it is written (only its ports changed
 * to free ones) in front of three instances on one Redis: writes spread
 * over the instances, WebSockets pass through and get every event once,
 * and when an instance is killed nginx sends new requests to the others
 * while its clients resume through nginx on another instance.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Order, ServerMessage } from '../src/protocol.ts';
import { TestClient, orderBody, request } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';
import { requirement } from './requirements.ts';

/** Debian puts nginx in /usr/sbin, which is not on every user's PATH. */
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const needsRedis = redisRequirement().skip;
const needsNginx = needsRedis === false ? requirement(NGINX, ['-v'], 'nginx (Debian/Ubuntu: apt-get install nginx)').skip : false;
const skip = needsRedis === false ? needsNginx : needsRedis;

/** The first ```nginx block of the README. */
function readmeSample(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const sample = /```nginx\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(sample !== undefined, 'the README has an nginx sample');
  return sample;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** nginx with the README's sample, its upstream ports and listen port replaced. */
async function startNginx(upstreams: readonly number[]): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-nginx-'));
  // Workers may run as another user (nobody) when the tests run as root: they need to reach their temp folders.
  chmodSync(dir, 0o777);
  let sample = readmeSample();
  for (const [i, upstream] of upstreams.entries()) sample = sample.replace(`127.0.0.1:${8001 + i}`, `127.0.0.1:${upstream}`);
  sample = sample.replace('listen 8000;', `listen 127.0.0.1:${port};`);
  assert.doesNotMatch(sample, /\b800[0-3]\b/, 'every port of the sample was replaced');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${dir}/${name};`).join('\n  ');
  writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log stderr warn;\nworker_processes 1;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  ${temp}\n${sample}\n}\n`);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const up = await request(`http://127.0.0.1:${port}`, 'GET', '/healthz').then((r) => r.status === 200, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not answer: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, child, dir };
}

describe('three instances behind nginx (the README sample)', { skip }, () => {
  let redis: RedisProcess | undefined;
  const instances: StartedProcess[] = [];
  let nginx: { port: number; child: ChildProcess; dir: string } | undefined;
  after(async () => {
    if (nginx !== undefined) {
      // SIGTERM: the master stops its workers too (after SIGKILL they would live on).
      const { child } = nginx;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(nginx.dir, { recursive: true, force: true });
    }
    for (const instance of instances) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((i) => i.exited));
    await redis?.dispose();
  });

  test('writes spread over the instances, sockets pass through, and a killed instance is routed around while its clients resume elsewhere', async () => {
    redis = await startRedis();
    instances.push(...(await Promise.all([1, 2, 3].map(() => startInstance({ STORAGE: 'redis', REDIS_URL: redis!.url })))));
    nginx = await startNginx(instances.map((i) => Number(new URL(i.base).port)));
    const base = `http://127.0.0.1:${nginx.port}`;

    // Six sockets through nginx land on every instance (round robin).
    const clients: TestClient[] = [];
    const starts: { seq: number; epoch: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const client = new TestClient(`${base.replace('http', 'ws')}/ws`);
      await client.opened();
      const snapshot = await client.next('snapshot');
      clients.push(client);
      starts.push({ seq: snapshot.seq, epoch: snapshot.epoch });
    }
    const perInstance = await Promise.all(instances.map(async (i) => ((await request(i.base, 'GET', '/api/stats')).body as { connections: number }).connections));
    assert.deepEqual(perInstance, [2, 2, 2], 'nginx spread the sockets');

    for (let i = 0; i < 30; i++) assert.equal((await request(base, 'POST', '/api/orders', orderBody(`through nginx ${i}`))).status, 201);
    for (const client of clients) await client.until(() => client.events.length === 30, 'every event through nginx');

    // Kill one instance: two of the sockets were on it.
    const victim = instances[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    for (let i = 30; i < 60; i++) assert.equal((await request(base, 'POST', '/api/orders', orderBody(`after the kill ${i}`))).status, 201, 'nginx skips the dead instance');

    // Every client ends with all 60 events: the live ones on their socket, the dead instance's through nginx with their position.
    const openings: string[] = [];
    const seqs = await Promise.all(clients.map(async (client, i) => {
      await Promise.race([client.closed, client.until(() => client.events.length === 60, 'the rest', 20_000)]);
      const before = client.events.map((e) => e.seq);
      if (client.closeCode === undefined) return before;
      const last = before[before.length - 1] ?? starts[i]!.seq;
      const again = new TestClient(`${base.replace('http', 'ws')}/ws?since=${last}&epoch=${starts[i]!.epoch}`);
      await again.opened();
      const first: ServerMessage = await again.next();
      openings.push(first.type);
      await again.until(() => again.events.length === 60 - before.length, 'the missed events after the resume');
      again.close();
      return [...before, ...again.events.map((e) => e.seq)];
    }));
    assert.equal(openings.length, 2, "the dead instance's two clients reconnected");
    assert.deepEqual(openings, ['resumed', 'resumed'], 'resumed through nginx, no reset');
    for (const [i, seen] of seqs.entries()) assert.deepEqual(seen, Array.from({ length: 60 }, (_, k) => starts[i]!.seq + 1 + k), `client ${i}: every event once, in order`);
    const listed = await request(base, 'GET', '/api/orders?limit=100');
    assert.equal((listed.body as Order[]).length, 60);
    for (const client of clients) client.close();
  });
});
