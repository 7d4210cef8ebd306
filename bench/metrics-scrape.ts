/**
 * What one `GET /metrics` costs the server's event loop with many open
 * WebSockets: `node --import tsx bench/metrics-scrape.ts [--sockets N] [--scrapes N]`.
 * The server runs in this process (so its event loop can be watched); the
 * sockets are real WebSocket clients in client processes (client-process.ts),
 * each with its snapshot. Measured per scrape, with the sockets idle:
 *   - render: the metrics' own time (the registry's `metrics()`, awaited);
 *   - request: a whole HTTP scrape, its client side (in this process)
 *     included, so an upper bound of what the server spends;
 * each as CPU time of this process (`process.cpuUsage`: the event loop's
 * work, plus any GC helper threads) and as event-loop active time
 * (`performance.eventLoopUtilization`, wall clock: on a shared machine it
 * also counts time spent waiting for a core); and the longest event-loop
 * block seen during the scrapes (`monitorEventLoopDelay`).
 * The first scrape is reported apart: it starts the process and Node metrics.
 * Then the same with no socket open, to show the cost does not grow with them.
 */

import { request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createServer, type LiveOrdersServer } from '../src/server.ts';
import { createLogger } from '../src/support/logger.ts';
import { Worker } from './ipc.ts';
import { seedOrders } from './seed.ts';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '19900' }, scrapes: { type: 'string', default: '30' }, orders: { type: 'string', default: '1000' } } });
/** The default is what fits: the file descriptor limit here is 20,000 per process, and the server's process holds a few more. */
const SOCKETS = Number(values.sockets);
const SCRAPES = Number(values.scrapes);
const ORDERS = Number(values.orders);
const PER_PROCESS = 2500;
const HERE = new URL('./', import.meta.url).pathname;

/** The target of issue 28. */
const TARGET_MS = 50;

interface Scrape {
  readonly renderMs: number;
  readonly renderCpuMs: number;
  readonly requestMs: number;
  readonly requestCpuMs: number;
  readonly bytes: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function get(port: number, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function scrapeOnce(server: LiveOrdersServer, port: number): Promise<Scrape> {
  const started = performance.now();
  const renderCpu = process.cpuUsage();
  await server.metrics.render();
  const renderCpuMs = cpuMsSince(renderCpu);
  const renderMs = performance.now() - started;
  const before = performance.eventLoopUtilization();
  const requestCpu = process.cpuUsage();
  const answer = await get(port, '/metrics');
  const requestCpuMs = cpuMsSince(requestCpu);
  const requestMs = performance.eventLoopUtilization(before).active;
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  return { renderMs, renderCpuMs, requestMs, requestCpuMs, bytes: answer.bytes };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(server: LiveOrdersServer, port: number, label: string): Promise<void> {
  // Let the connect storm's garbage be collected and the loop settle before timing.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const scrapes: Scrape[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    scrapes.push(await scrapeOnce(server, port));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  delay.disable();
  const fmt = (ms: number): string => ms.toFixed(2);
  const summary = (values: readonly number[]): string => `median ${fmt(quantile(values, 0.5))}, p95 ${fmt(quantile(values, 0.95))}, max ${fmt(Math.max(...values))} ms`;
  const wholeCpu = scrapes.map((s) => s.requestCpuMs);
  console.log(`${label}: ${server.webSockets.size.toLocaleString('en-US')} open sockets, ${scrapes.length} scrapes of ${scrapes[0]!.bytes} bytes`);
  console.log(`  render        CPU ${summary(scrapes.map((s) => s.renderCpuMs))}; wall ${summary(scrapes.map((s) => s.renderMs))}`);
  console.log(`  whole request CPU ${summary(wholeCpu)}; event-loop active ${summary(scrapes.map((s) => s.requestMs))}`);
  console.log(`  longest event-loop block ${fmt(delay.max / 1e6)} ms; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  console.log(`  target < ${TARGET_MS} ms of event-loop work per scrape (median CPU of a whole request): ${quantile(wholeCpu, 0.5) < TARGET_MS ? 'met' : 'NOT met'}`);
}

const server = createServer({ port: 0, servePage: false, maxConnections: 100_000, heartbeatIntervalMs: 3_600_000, logger: createLogger({ level: 'error' }) });
const { port } = await server.listen();
await seedOrders(server.commands, ORDERS);

const first = await scrapeOnce(server, port);
console.log(`first scrape (starts the process and Node metrics): render CPU ${first.renderCpuMs.toFixed(2)} ms, whole request CPU ${first.requestCpuMs.toFixed(2)} ms`);
await measure(server, port, 'no sockets');

const clients: Worker[] = [];
const connectStarted = performance.now();
for (let left = SOCKETS; left > 0; left -= PER_PROCESS) {
  const worker = new Worker(`${HERE}client-process.ts`);
  await worker.ready;
  // A one-order snapshot each: the connect storm is not what is measured.
  await worker.call('open', { url: `ws://127.0.0.1:${port}/ws?limit=1`, n: Math.min(PER_PROCESS, left) });
  clients.push(worker);
}
console.log(`opened ${server.webSockets.size.toLocaleString('en-US')} sockets in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);
await measure(server, port, 'with sockets');

await Promise.all(clients.map((worker) => worker.stop()));
await server.close();
