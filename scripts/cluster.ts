/**
 * @module scripts/cluster
 * `npm run cluster`: Redis and N instances sharing it, for trying "Several
 * instances" on one machine. Redis keeps its files in a temporary folder
 * (not in the checkout), every line of output carries the name of the
 * process that wrote it, and Ctrl-C stops the instances, then Redis, then
 * removes the folder.
 *
 *   npm run cluster                          # Redis and 3 instances on 8001-8003
 *   npm run cluster -- --instances 5 --port 9001
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, onStopSignal, startChild, stopChild, waitForOutput, type Child } from './children.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const DEFAULTS = { instances: 3, port: 8001 } as const;
const MAX_INSTANCES = 32;

const USAGE = `npm run cluster -- [--instances N] [--port BASE] [--redis-port P]

Starts redis-server (append-only file, in a temporary folder) and N instances
(default ${DEFAULTS.instances}) with STORAGE=redis on ports BASE..BASE+N-1 (default ${DEFAULTS.port}; 0: any free
ports). Ctrl-C stops them all and removes the folder.`;

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(2);
}

function readOptions(): { instances: number; port: number; redisPort: number | undefined } {
  let values;
  try {
    ({ values } = parseArgs({ options: { instances: { type: 'string' }, port: { type: 'string' }, 'redis-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const instances = Number(values.instances ?? DEFAULTS.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > MAX_INSTANCES) fail(`--instances: expected 1 to ${MAX_INSTANCES}`);
  const port = Number(values.port ?? DEFAULTS.port);
  if (!Number.isInteger(port) || port < 0 || port + instances - 1 > 65535) fail('--port: expected a port (0 for any free ones)');
  const redisPort = values['redis-port'] === undefined ? undefined : Number(values['redis-port']);
  if (redisPort !== undefined && !(Number.isInteger(redisPort) && redisPort > 0 && redisPort <= 65535)) fail('--redis-port: expected a port');
  return { instances, port, redisPort };
}

async function main(): Promise<void> {
  const options = readOptions();
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-cluster-'));
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (code: number, why?: string): Promise<never> => {
    stopping = true;
    if (why !== undefined) process.stderr.write(`cluster: ${why}\n`);
    // Instances first (they finish their requests and close their sockets), Redis last.
    await Promise.all(children.filter((c) => c.name !== 'redis').map(stopChild));
    await Promise.all(children.filter((c) => c.name === 'redis').map(stopChild));
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`cluster: stopped; removed ${dir}\n`);
    process.exit(code);
  };
  onStopSignal(() => void stopAll(0));
  const watch = (child: Child): void => {
    children.push(child);
    void child.exited.then((code) => {
      if (!stopping) void stopAll(1, `${child.name} exited (${code}); stopping the rest`);
    });
  };

  const redisPort = options.redisPort ?? (await freePort());
  const redis = startChild('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no']);
  watch(redis);
  try {
    await waitForOutput(redis, /Ready to accept connections/);
  } catch (error) {
    const missing = /ENOENT/.test(redis.output()) ? ' (is redis-server installed? apt-get install redis-server, or brew install redis)' : '';
    return stopAll(1, `redis-server did not start${missing}: ${(error as Error).message}`);
  }
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const instances = Array.from({ length: options.instances }, (_, i) => {
    const port = options.port === 0 ? 0 : options.port + i;
    const env = { ...process.env, STORAGE: 'redis', REDIS_URL: redisUrl, PORT: String(port), HOST: process.env.HOST ?? '127.0.0.1' };
    const instance = startChild(`instance ${i + 1}`, process.execPath, ['--import', 'tsx', MAIN], { env });
    watch(instance);
    return instance;
  });
  let urls: string[];
  try {
    urls = await Promise.all(instances.map(async (instance) => (await waitForOutput(instance, /liveorders: (http:\/\/\S+)/))[1]!));
  } catch (error) {
    return stopAll(1, (error as Error).message);
  }
  process.stdout.write(
    `cluster: ready · redis ${redisUrl} (files in ${dir}) · ${urls.map((u, i) => `instance ${i + 1} ${u}`).join(' · ')}\n` +
      'cluster: Ctrl-C stops them all\n',
  );
}

void main();
