/**
 * Figure 10, outgoing webhooks: `POST /api/orders` throughput and p99 with
 * 0, 1 and 10 webhook endpoints (receivers on this machine answering 204,
 * in this process; the server in a child process, STORAGE=journal in a
 * temporary folder, a backlog bound no row reaches), then how fast the backlog drains once the load
 * stops (deliveries per second), in alternating rounds.
 * `node --import tsx bench/webhooks.ts [--seconds 5] [--rounds 3] [--endpoints 0,1,10]`.
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

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, endpoints: { type: 'string', default: '0,1,10' } } });
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
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: dataDir, WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_MAX_BACKLOG: '10000000' }, stdio: ['ignore', 'ignore', 'pipe'] });
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

/** What one row measured. */
interface Row {
  readonly endpoints: number;
  readonly postsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Webhooks the receivers got while the load ran. */
  readonly sentDuring: number;
  /** Events waiting across all endpoints when the load stopped. */
  readonly backlogLeft: number;
  /** Deliveries per second across all endpoints once the load stopped (one endpoint: until its backlog is empty). */
  readonly drainPerSecond: number;
}

/** How long the drain with ten endpoints is watched (emptying their backlogs would take minutes). */
const DRAIN_WATCH_MS = 10_000;

async function measure(endpoints: number): Promise<Row> {
  const server = await startServer();
  const receivers = await Promise.all(Array.from({ length: endpoints }, receiver));
  const ids = await Promise.all(receivers.map((r) => addEndpoint(server.port, r.url)));
  const received = (): number => receivers.reduce((sum, r) => sum + r.count(), 0);
  const load = (duration: number) => autocannon({ url: `http://127.0.0.1:${server.port}/api/orders`, method: 'POST', connections: 50, duration, headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
  await load(2); // warm-up, discarded
  const result = await load(SECONDS);
  const sentDuring = received();
  let backlogLeft = 0;
  let drainPerSecond = 0;
  if (endpoints >= 1) {
    const total = async (): Promise<number> => (await Promise.all(ids.map((id) => backlog(server.port, id)))).reduce((sum, n) => sum + n, 0);
    backlogLeft = await total();
    const started = performance.now();
    while ((await total()) > 0 && (endpoints === 1 || performance.now() - started < DRAIN_WATCH_MS)) await new Promise((resolve) => setTimeout(resolve, 100));
    drainPerSecond = Math.round((received() - sentDuring) / ((performance.now() - started) / 1000));
  }
  server.stop();
  for (const r of receivers) r.server.close();
  return { endpoints, postsPerSecond: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors, sentDuring, backlogLeft, drainPerSecond };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

// Rows alternate (0, 1, 10, 0, 1, 10, ...) so that a noisy minute on a shared machine falls on all of them alike.
const ROUNDS = Number(values.rounds);
const COUNTS = values.endpoints.split(',').map(Number);
if (COUNTS[0] !== 0 || COUNTS.some((n) => !Number.isInteger(n) || n < 0)) throw new Error('--endpoints: whole numbers, the first 0 (the baseline), e.g. 0,1,10');
const rows: Row[] = [];
for (let round = 0; round < ROUNDS; round++) for (const endpoints of COUNTS) rows.push(await measure(endpoints));

const out: string[] = [`${PINNING ? `server on core ${SERVER_CORE}, load and receivers on core ${LOAD_CORE}` : 'not pinned'}, ${SECONDS} s per row, ${ROUNDS} rounds, node ${process.version}`];
out.push('| round | endpoints | POST/s | vs 0 in its round | p50 / p99 ms | errors | webhooks during the load | backlog left | deliveries/s after |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
rows.forEach((row, i) => {
  const none = rows[i - COUNTS.indexOf(row.endpoints)]!;
  out.push(`| ${Math.floor(i / COUNTS.length) + 1} | ${row.endpoints} | ${row.postsPerSecond} | ${(row.postsPerSecond / none.postsPerSecond).toFixed(2)}x | ${row.p50} / ${row.p99} | ${row.errors} | ${row.sentDuring} | ${row.backlogLeft} | ${row.endpoints === 0 ? '–' : row.drainPerSecond} |`);
});
const baseline = median(rows.filter((row) => row.endpoints === 0).map((row) => row.postsPerSecond));
out.push('', '| endpoints | median POST/s | vs none | median p99 ms | median deliveries/s after the load |', '| --- | --- | --- | --- | --- |');
for (const endpoints of COUNTS) {
  const mine = rows.filter((row) => row.endpoints === endpoints);
  const rate = median(mine.map((row) => row.postsPerSecond));
  out.push(`| ${endpoints} | ${rate} | ${(rate / baseline).toFixed(2)}x | ${median(mine.map((row) => row.p99))} | ${endpoints === 0 ? '–' : median(mine.map((row) => row.drainPerSecond))} |`);
}
process.stdout.write(`${out.join('\n')}\n`);
