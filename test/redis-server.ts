/**
 * Real `redis-server` processes for the Redis suites: each on a free port,
 * with its own folder and AOF on (`appendfsync always`, so an answered
 * write survives a kill), started and stopped by the tests themselves.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirement, type Requirement } from './requirements.ts';

/**
 * Whether `redis-server` is here; the line says how to get it.
 * @returns the requirement, for `describe(..., { skip })`
 */
export function redisRequirement(): Requirement {
  return requirement('redis-server', ['--version'], 'redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)');
}

/** A running (or stopped, restartable) redis-server. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Its data folder (AOF files). */
  readonly dir: string;
  /** Stop it the hard way (`kill -9`): what an answered write must survive. */
  kill(): Promise<void>;
  /** Stop it politely (SIGTERM: it flushes and exits). */
  stop(): Promise<void>;
  /** Start it again on the same port and folder. */
  start(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open and nothing is answered, as with a hung server. */
  suspend(): void;
  /** Thaw it (SIGCONT). */
  resume(): void;
  /** Stop it and remove its folder. */
  dispose(): Promise<void>;
}

/**
 * Start a redis-server on a free port, in a new folder.
 * @param options.appendfsync AOF fsync policy @default always
 * @param options.appendonly keep an AOF at all; without one a restart loads the last `SAVE` (dump.rdb) @default true
 * @param options.args more arguments (`--maxmemory`, ...)
 */
export async function startRedis(options: { appendfsync?: 'always' | 'everysec'; appendonly?: boolean; args?: readonly string[] } = {}): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', options.appendonly === false ? 'no' : 'yes', '--appendfsync', options.appendfsync ?? 'always', '--save', '', '--daemonize', 'no', '--loglevel', 'warning', ...(options.args ?? [])];
  const start = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    let output = '';
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForPort(port, () => started.exitCode !== null, () => output);
  };
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(name);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    start,
    suspend: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    dispose: async () => {
      child?.kill('SIGCONT');
      await signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolve once something accepts connections on `port` and answers PING. */
async function waitForPort(port: number, gone: () => boolean, output: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone()) throw new Error(`redis-server exited: ${output()}`);
    const answered = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
