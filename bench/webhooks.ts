/**
 * Figure 10, outgoing webhooks: `POST /api/orders` throughput and p99 with
 * 0, 1 and 10 webhook endpoints (receivers on this machine answering 204,
 * in this process; the server in a child process, STORAGE=journal in a
 * temporary folder), then how fast one endpoint's backlog drains
 * (deliveries per second). `npx tsx bench/webhooks.ts [--seconds 10]`.
 */

import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ORDER_BODY } from './handler-cpu.ts';
import { LOAD_CORE, pin, PINNING, SERVER_CORE } from './pinning.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const SECONDS = Number(values.seconds);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

// The server (and the sender thread it starts) on one core; autocannon and the receivers on the other.
pin(process.pid, LOAD_CORE);

/** A receiver that counts what arrives and answers 204. */
async function receiver(): Promise<{ url: string; count: () => number; server: Server }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, count: () => count, server };
}

/** A server process on a fresh journal; resolves with its port. */
async function startServer(): Promise<{ port: number; stop: () => void }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'liveorders-bench-hooks-'));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: dataDir, WEBHOOK_ALLOW_PRIVATE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  pin(child.pid, SERVER_CORE);
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const found = /http:\/\/[^:]+:(\d+)/.exec(text);
      if (found !== null) resolve(Number(found[1]));
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${String(code)}: ${text}`)));
  });
  return {
    port,
    stop: () => {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function addEndpoint(port: number, url: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  if (res.status !== 201) throw new Error(`creating an endpoint: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function backlog(port: number, id: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/${id}`);
  return ((await res.json()) as { backlog: number }).backlog;
}

const rows: string[] = [];
for (const endpoints of [0, 1, 10]) {
  const server = await startServer();
  const receivers = await Promise.all(Array.from({ length: endpoints }, receiver));
  const ids = await Promise.all(receivers.map((r) => addEndpoint(server.port, r.url)));
  const load = (duration: number) => autocannon({ url: `http://127.0.0.1:${server.port}/api/orders`, method: 'POST', connections: 50, duration, headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
  await load(2); // warm-up, discarded
  const result = await load(SECONDS);
  const sentDuring = receivers.reduce((sum, r) => sum + r.count(), 0);
  let drain = '';
  if (endpoints >= 1) {
    // Deliveries per second once the load stops: from then until every endpoint's backlog is empty.
    const before = receivers.reduce((sum, r) => sum + r.count(), 0);
    const total = async (): Promise<number> => (await Promise.all(ids.map((id) => backlog(server.port, id)))).reduce((sum, n) => sum + n, 0);
    const left = await total();
    const started = performance.now();
    while ((await total()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const seconds = (performance.now() - started) / 1000;
    const delivered = receivers.reduce((sum, r) => sum + r.count(), 0) - before;
    drain = ` | ${left} in ${seconds.toFixed(1)} s: ${Math.round(delivered / Math.max(seconds, 0.001))}/s`;
  }
  rows.push(`| ${endpoints} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx + result.errors} | ${sentDuring}${drain || ' | –'} |`);
  server.stop();
  for (const r of receivers) r.server.close();
}
process.stdout.write(`${PINNING ? `server on core ${SERVER_CORE}, load and receivers on core ${LOAD_CORE}` : 'not pinned'}, ${SECONDS} s per row, node ${process.version}\n`);
process.stdout.write(`| endpoints | POST/s | p50 ms | p99 ms | errors | webhooks received during the load | backlog left, drained with no load |\n| --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`);
