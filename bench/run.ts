/**
 * The benchmark suite: `npm run bench` (quick, a minute or two) or
 * `npm run bench -- --full`. Every figure is measured side by side with its
 * baselines in the same run, servers and clients in separate processes; the
 * table shows medians and ratios. Writes bench/results/bench.json.
 *
 *   --full            more events, more repetitions, longer load
 *   --only NAME,...   isolated,burst,latency,throughput,handler,connect,storm,memory,list,durability,redis
 */

import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import WebSocket from 'ws';
import { startRedis } from '../test/redis-server.ts';
import { ORDER_BODY } from './handler-cpu.ts';
import { Worker } from './ipc.ts';
import { LOAD_CORE, PINNING, SERVER_CORE, pin } from './pinning.ts';

const { values } = parseArgs({ options: { full: { type: 'boolean', default: false }, only: { type: 'string' } } });
const FULL = values.full;
const ONLY = values.only?.split(',');
const HERE = new URL('./', import.meta.url).pathname;

type Variant = 'liveorders' | 'naive' | 'floor' | 'batch' | 'bare' | 'keep' | 'journal';

/** One row of the results table. */
interface Row {
  figure: string;
  variant: string;
  metric: string;
  value: number;
  unit: string;
  ratio?: string;
  target?: string;
  met?: boolean;
}
const rows: Row[] = [];
const notes: string[] = [];

// The load generator, and the client processes it forks from here on, on one core; servers under test on the other.
pin(process.pid, LOAD_CORE);
notes.push(PINNING ? `pinned with taskset: servers under test on core ${SERVER_CORE}, load generator on core ${LOAD_CORE}` : 'not pinned (no taskset, or one core)');

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

async function startServer(variant: Variant, execArgv: string[] = []): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(`${HERE}server-process.ts`, [variant], execArgv);
  pin(worker.child.pid, SERVER_CORE);
  const ready = await worker.ready;
  return { worker, port: Number(ready.port) };
}

/** Open `n` watchers in client processes; with `orderIds`, watcher i watches only order `orderIds[i]`. */
async function startClients(port: number, n: number, orderIds?: string[], perProcess = 2500): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let left = n; left > 0; left -= perProcess) {
    const worker = new Worker(`${HERE}client-process.ts`);
    await worker.ready;
    const first = n - left;
    const ids = orderIds?.slice(first, first + perProcess);
    await worker.call('open', { url: `ws://127.0.0.1:${port}/ws`, n: Math.min(perProcess, left), ...(ids === undefined ? {} : { orderIds: ids }) });
    workers.push(worker);
  }
  return workers;
}

async function cpuMicros(server: Worker): Promise<number> {
  const usage = await server.call<{ userUs: number; systemUs: number }>('cpu');
  return usage.userUs + usage.systemUs;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function http(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function createOrder(port: number, i: number): Promise<string> {
  const res = await http(port, 'POST', '/api/orders', { customerName: `Bench ${i}`, items: ['laptop', { name: 'mouse', quantity: 2, price: 19.99 }] });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { id: string }).id;
}

async function pool<T>(concurrency: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

async function armAll(clients: Worker[], count: number): Promise<void> {
  await Promise.all(clients.map((c) => c.call('arm', { count })));
}

async function waitAll(clients: Worker[]): Promise<{ at: bigint; violations: number }> {
  const answers = await Promise.all(clients.map((c) => c.call<{ at: string; violations: number }>('wait')));
  return {
    at: answers.reduce((max, a) => (BigInt(a.at) > max ? BigInt(a.at) : max), 0n),
    violations: answers.reduce((n, a) => n + a.violations, 0),
  };
}

async function stopAll(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function should(name: string): boolean {
  return ONLY === undefined || ONLY.includes(name);
}

// ---------------------------------------------------------------------------
// 1. Isolated events: server CPU per delivered event
// ---------------------------------------------------------------------------

/** A server with its own watchers, taking turns with the others in figure 1. */
interface IsolatedSubject {
  readonly variant: 'floor' | 'naive' | 'liveorders';
  readonly server: Worker;
  readonly port: number;
  readonly watchers: Worker[];
  sent: number;
  lastCreated: string;
}

/**
 * Send `count` events to a subject one at a time, half creates and half status updates, each waiting
 * until every watcher has it. Returns the ordering violations the watchers saw.
 */
async function sendIsolated(subject: IsolatedSubject, count: number): Promise<number> {
  let violations = 0;
  for (let n = 0; n < count; n++, subject.sent++) {
    await armAll(subject.watchers, 1);
    if (subject.sent % 2 === 0) subject.lastCreated = await createOrder(subject.port, subject.sent);
    else {
      const res = await http(subject.port, 'PUT', `/api/orders/${subject.lastCreated}/status`, { status: 'processing' });
      if (res.status !== 200) throw new Error(`status change failed: ${res.status} ${res.body}`);
    }
    violations += (await waitAll(subject.watchers)).violations;
  }
  return violations;
}

async function isolatedEvents(clients: number, events: number, rounds: number): Promise<void> {
  // The three servers run at once, each with its own watchers, and take turns round by round (each
  // round starting with the next one), as in figures 2, 3 and 5. Measured one after the other, a busy
  // minute landed on one server only: three runs of the same code under Node 24 gave 0.70-0.96x naive.
  const subjects: IsolatedSubject[] = [];
  for (const variant of ['floor', 'naive', 'liveorders'] as const) {
    progress(`isolated events: ${variant}, ${clients} clients`);
    const { worker: server, port } = await startServer(variant);
    const subject = { variant, server, port, watchers: await startClients(port, clients), sent: 0, lastCreated: '' };
    await sendIsolated(subject, 20); // warm up the JIT on both sides
    subjects.push(subject);
  }
  const perRound = Math.ceil(events / rounds);
  const cpu = new Map(subjects.map((s) => [s.variant, 0]));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < subjects.length; turn++) {
      const subject = subjects[(round + turn) % subjects.length]!;
      const before = await cpuMicros(subject.server);
      const violations = await sendIsolated(subject, perRound);
      cpu.set(subject.variant, cpu.get(subject.variant)! + (await cpuMicros(subject.server)) - before);
      if (violations > 0) notes.push(`isolated ${subject.variant} ${clients}: ${violations} ordering violations`);
    }
  }
  await stopAll(subjects.flatMap((s) => [...s.watchers, s.server]));
  const perVariant = Object.fromEntries([...cpu].map(([variant, us]) => [variant, us / (perRound * rounds * clients)]));
  const ours = perVariant.liveorders!;
  rows.push(
    // The floor's own ratio to naive bounds what any server that writes each event to each socket can reach.
    { figure: `1 isolated, ${clients} clients`, variant: 'floor (b)', metric: 'server CPU / delivered event (ratio: vs naive)', value: perVariant.floor!, unit: 'µs', ratio: ratio(perVariant.floor!, perVariant.naive!) },
    { figure: `1 isolated, ${clients} clients`, variant: 'naive (a)', metric: 'server CPU / delivered event', value: perVariant.naive!, unit: 'µs' },
    { figure: `1 isolated, ${clients} clients`, variant: 'liveorders', metric: 'vs floor', value: ours, unit: 'µs', ratio: ratio(ours, perVariant.floor!), target: '<= 1.10x', met: ours / perVariant.floor! <= 1.1 },
    { figure: `1 isolated, ${clients} clients`, variant: 'liveorders', metric: 'vs naive', value: ours, unit: 'µs', ratio: ratio(ours, perVariant.naive!), target: '<= 0.75x', met: ours / perVariant.naive! <= 0.75 },
  );
}

// ---------------------------------------------------------------------------
// 2. Bursts: 1,000 creates over 20 connections while 1,000 clients watch
// ---------------------------------------------------------------------------

async function bursts(clients: number, creates: number): Promise<void> {
  const results: Record<string, { cpuPerEvent: number; allDeliveredMs: number; violations: number }> = {};
  for (const variant of ['naive', 'floor', 'batch', 'liveorders'] as const) {
    const { worker: server, port } = await startServer(variant);
    const watchers = await startClients(port, clients);
    await armAll(watchers, 20);
    await pool(20, Array.from({ length: 20 }, (_, i) => () => createOrder(port, i))); // warm-up
    await waitAll(watchers);
    await armAll(watchers, creates);
    const before = await cpuMicros(server);
    const started = process.hrtime.bigint();
    await pool(20, Array.from({ length: creates }, (_, i) => () => createOrder(port, i)));
    const done = await waitAll(watchers);
    const cpu = (await cpuMicros(server)) - before;
    results[variant] = { cpuPerEvent: cpu / (creates * clients), allDeliveredMs: Number(done.at - started) / 1e6, violations: done.violations };
    await stopAll([...watchers, server]);
  }
  const ours = results.liveorders!;
  const naive = results.naive!;
  const names = { naive: 'naive (a)', floor: 'floor (b)', batch: 'floor with per-tick batching (e)' } as const;
  for (const variant of ['naive', 'floor', 'batch'] as const) {
    rows.push(
      { figure: `2 burst ${creates} creates, ${clients} clients`, variant: names[variant], metric: 'server CPU / delivered event', value: results[variant]!.cpuPerEvent, unit: 'µs' },
      { figure: `2 burst ${creates} creates, ${clients} clients`, variant: names[variant], metric: 'all clients have all events', value: results[variant]!.allDeliveredMs, unit: 'ms' },
    );
  }
  const batch = results.batch!;
  rows.push(
    { figure: `2 burst ${creates} creates, ${clients} clients`, variant: 'liveorders', metric: 'server CPU / delivered event vs (e)', value: ours.cpuPerEvent, unit: 'µs', ratio: ratio(ours.cpuPerEvent, batch.cpuPerEvent), target: '<= 1.10x', met: ours.cpuPerEvent / batch.cpuPerEvent <= 1.1 },
    { figure: `2 burst ${creates} creates, ${clients} clients`, variant: 'liveorders', metric: 'all clients have all events vs (e)', value: ours.allDeliveredMs, unit: 'ms', ratio: ratio(ours.allDeliveredMs, batch.allDeliveredMs), target: '<= 1.10x', met: ours.allDeliveredMs / batch.allDeliveredMs <= 1.1 },
  );
  rows.push(
    { figure: `2 burst ${creates} creates, ${clients} clients`, variant: 'liveorders', metric: 'server CPU / delivered event', value: ours.cpuPerEvent, unit: 'µs', ratio: ratio(ours.cpuPerEvent, naive.cpuPerEvent), target: '<= 0.20x naive', met: ours.cpuPerEvent / naive.cpuPerEvent <= 0.2 },
    { figure: `2 burst ${creates} creates, ${clients} clients`, variant: 'liveorders', metric: 'all clients have all events', value: ours.allDeliveredMs, unit: 'ms', ratio: ratio(ours.allDeliveredMs, naive.allDeliveredMs), target: '<= 0.20x naive', met: ours.allDeliveredMs / naive.allDeliveredMs <= 0.2 },
    { figure: `2 burst ${creates} creates, ${clients} clients`, variant: 'liveorders', metric: 'events lost, reordered or repeated', value: ours.violations, unit: '', target: '0', met: ours.violations === 0 },
  );
}

// ---------------------------------------------------------------------------
// 2b. An isolated event is not delayed by coalescing
// ---------------------------------------------------------------------------

async function isolatedLatency(samples: number): Promise<void> {
  const variants = ['floor', 'liveorders'] as const;
  // Both servers run at once and take turns sample by sample, so a busy minute slows both alike.
  const subjects = await Promise.all(variants.map(async (variant) => {
    const { worker, port } = await startServer(variant);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    const frames: (() => void)[] = [];
    ws.on('message', () => frames.shift()?.());
    await new Promise((resolve) => ws.once('message', resolve));
    return { variant, worker, port, ws, frames, event: [] as number[], both: [] as number[] };
  }));
  for (let i = 0; i < samples; i++) {
    for (const subject of subjects) {
      const arrived = new Promise<bigint>((resolve) => subject.frames.push(() => resolve(process.hrtime.bigint())));
      const sent = process.hrtime.bigint();
      await createOrder(subject.port, i);
      const answered = process.hrtime.bigint();
      const eventAt = await arrived;
      if (i < 5) continue; // warm-up
      subject.event.push(Number(eventAt - sent) / 1e3);
      subject.both.push(Number((eventAt > answered ? eventAt : answered) - sent) / 1e3);
    }
  }
  const medians: Record<string, { event: number; both: number }> = {};
  for (const subject of subjects) {
    medians[subject.variant] = { event: median(subject.event), both: median(subject.both) };
    subject.ws.terminate();
    await subject.worker.stop();
  }
  const ours = medians.liveorders!;
  const floor = medians.floor!;
  rows.push(
    { figure: '2 isolated event latency', variant: 'floor (b)', metric: 'POST sent -> event received, median', value: floor.event, unit: 'µs' },
    { figure: '2 isolated event latency', variant: 'liveorders', metric: 'POST sent -> event received, median', value: ours.event, unit: 'µs', ratio: ratio(ours.event, floor.event) },
    { figure: '2 isolated event latency', variant: 'floor (b)', metric: 'POST sent -> answer and event both in, median', value: floor.both, unit: 'µs' },
    { figure: '2 isolated event latency', variant: 'liveorders', metric: 'POST sent -> answer and event both in, median', value: ours.both, unit: 'µs', ratio: ratio(ours.both, floor.both), target: 'same turn, no timer delay (~1x)', met: ours.both / floor.both <= 1.2 },
  );
}

// ---------------------------------------------------------------------------
// 3. Write throughput
// ---------------------------------------------------------------------------

async function throughput(seconds: number, rounds: number, watchers: number): Promise<void> {
  const run = async (port: number): Promise<number> => {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/api/orders`,
      method: 'POST',
      connections: 50,
      duration: seconds,
      headers: { 'content-type': 'application/json' },
      body: ORDER_BODY,
    });
    if (result.non2xx > 0 || result.errors > 0) notes.push(`throughput: ${result.non2xx} non-2xx, ${result.errors} errors on port ${port}`);
    return result.requests.average;
  };
  /** Requests per second, and the server's CPU per request in µs, over one run. */
  const measure = async (server: Worker, port: number): Promise<{ rps: number; cpuPerRequest: number }> => {
    const before = await cpuMicros(server);
    const rps = await run(port);
    const cpu = (await cpuMicros(server)) - before;
    return { rps, cpuPerRequest: cpu / (rps * seconds) };
  };
  // The three servers run side by side and take turns, round after round: load on this shared
  // machine drifts by up to 1.7x within minutes, and interleaving spreads the drift over all three.
  // Each round starts with the next server, so none always follows the same one (and its GC debt).
  const variants = ['bare', 'keep', 'liveorders'] as const;
  const servers = await Promise.all(variants.map((variant) => startServer(variant)));
  for (const { port } of servers) await run(port); // warm-up pass, discarded
  const samples = variants.map(() => ({ rps: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < servers.length; turn++) {
      const i = (round + turn) % servers.length;
      const { rps, cpuPerRequest } = await measure(servers[i]!.worker, servers[i]!.port);
      samples[i]!.rps[round] = rps;
      samples[i]!.cpu[round] = cpuPerRequest;
    }
  }
  await stopAll(servers.map((s) => s.worker));
  const [bare, keep, quiet] = samples.map((s) => ({ rps: median(s.rps), cpuPerRequest: median(s.cpu) })) as [Measured, Measured, Measured];
  const ratios = samples[2]!.rps.map((rps, i) => rps / samples[0]!.rps[i]!);

  const { worker: server, port } = await startServer('liveorders');
  const clients = await startClients(port, watchers);
  await run(port); // warm-up pass, discarded
  const busy = await measure(server, port);
  await stopAll([...clients, server]);

  // Customers tracking their own orders: each watcher sees one order, which the load does not touch.
  const tracked = await startServer('liveorders');
  const orderIds = await pool(20, Array.from({ length: watchers }, (_, i) => () => createOrder(tracked.port, i)));
  const trackers = await startClients(tracked.port, watchers, orderIds);
  await run(tracked.port); // warm-up pass, discarded
  const tracking = await measure(tracked.worker, tracked.port);
  await stopAll([...trackers, tracked.worker]);

  const figure = `3 POST /api/orders, 50 connections, median of ${rounds}`;
  rows.push(
    { figure, variant: 'bare http (c)', metric: 'requests/s', value: bare.rps, unit: 'req/s' },
    { figure, variant: 'bare http (c)', metric: 'server CPU / request', value: bare.cpuPerRequest, unit: 'µs' },
    { figure, variant: 'keep-the-order (d)', metric: 'requests/s', value: keep.rps, unit: 'req/s', ratio: ratio(keep.rps, bare.rps) },
    { figure, variant: 'keep-the-order (d)', metric: 'server CPU / request', value: keep.cpuPerRequest, unit: 'µs', ratio: ratio(keep.cpuPerRequest, bare.cpuPerRequest) },
    { figure, variant: 'liveorders, 0 watchers', metric: 'requests/s', value: quiet.rps, unit: 'req/s', ratio: ratio(quiet.rps, bare.rps), target: '>= 0.60x bare', met: quiet.rps / bare.rps >= 0.6 },
    { figure, variant: 'liveorders, 0 watchers', metric: 'requests/s vs bare: median of the per-round ratios (ratio column: range)', value: median(ratios), unit: 'x', ratio: `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x` },
    { figure, variant: 'liveorders, 0 watchers', metric: 'requests/s vs keep-the-order (d)', value: quiet.rps, unit: 'req/s', ratio: ratio(quiet.rps, keep.rps) },
    { figure, variant: 'liveorders, 0 watchers', metric: 'server CPU / request', value: quiet.cpuPerRequest, unit: 'µs', ratio: ratio(quiet.cpuPerRequest, bare.cpuPerRequest) },
    { figure, variant: `liveorders, ${watchers} watchers`, metric: 'requests/s', value: busy.rps, unit: 'req/s', ratio: ratio(busy.rps, bare.rps) },
    { figure, variant: `liveorders, ${watchers} watchers`, metric: 'server CPU / request (incl. fan-out)', value: busy.cpuPerRequest, unit: 'µs' },
    { figure, variant: `liveorders, ${watchers} watchers of one order each`, metric: 'requests/s', value: tracking.rps, unit: 'req/s', ratio: ratio(tracking.rps, bare.rps) },
    { figure, variant: `liveorders, ${watchers} watchers of one order each`, metric: 'server CPU / request', value: tracking.cpuPerRequest, unit: 'µs', ratio: ratio(tracking.cpuPerRequest, bare.cpuPerRequest) },
  );
}

interface Measured {
  rps: number;
  cpuPerRequest: number;
}

/** CPU per POST inside one process, without the network (bench/handler-cpu.ts); each variant in a fresh process, rounds alternating. */
async function handlerCpu(rounds: number): Promise<void> {
  const variants = ['bare', 'keep', 'liveorders'] as const;
  const workers = await Promise.all(variants.map(async (variant) => {
    const worker = new Worker(`${HERE}handler-cpu.ts`, [variant]);
    await worker.ready;
    await worker.call<number>('run', { count: 20_000 }); // warm-up, discarded
    return worker;
  }));
  const samples: number[][] = variants.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, worker] of workers.entries()) samples[i]!.push(await worker.call<number>('run', { count: 5_000 }));
  }
  await stopAll(workers);
  const [bare, keep, ours] = samples.map(median) as [number, number, number];
  const figure = `3b POST handler CPU, in-process, median of ${rounds}`;
  rows.push(
    { figure, variant: 'bare http (c)', metric: 'CPU / request', value: bare, unit: 'µs' },
    { figure, variant: 'keep-the-order (d)', metric: 'CPU / request', value: keep, unit: 'µs', ratio: ratio(keep, bare) },
    { figure, variant: 'liveorders', metric: 'CPU / request', value: ours, unit: 'µs', ratio: ratio(ours, bare) },
    { figure, variant: 'liveorders', metric: 'CPU / request vs keep-the-order (d)', value: ours, unit: 'µs', ratio: ratio(ours, keep) },
  );
}

// ---------------------------------------------------------------------------
// 4. Connect cost vs store size
// ---------------------------------------------------------------------------

async function connectCost(samples: number): Promise<void> {
  const sizes = [0, 10_000, 100_000];
  // All three servers run at once and the samples are interleaved, so machine noise hits each size alike.
  const servers = await Promise.all(sizes.map(async (size) => {
    const started = await startServer('liveorders');
    await started.worker.call('seed', { n: size });
    return started;
  }));
  const connectOnce = async (port: number): Promise<{ ms: number; bytes: number }> => {
    const started = process.hrtime.bigint();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    const frame = await new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    ws.terminate();
    return { ms, bytes: frame.length };
  };
  const times: number[][] = sizes.map(() => []);
  const uncached: number[] = [];
  let bytes: number[] = [];
  for (let i = 0; i < samples + 3; i++) {
    const round = [];
    for (const { port } of servers) round.push(await connectOnce(port));
    // The same at 100,000 orders, but with a change just before: no cached snapshot can be reused.
    await createOrder(servers[2]!.port, i);
    const changed = await connectOnce(servers[2]!.port);
    if (i < 3) continue; // warm-up
    round.forEach((r, k) => times[k]!.push(r.ms));
    uncached.push(changed.ms);
    bytes = round.map((r) => r.bytes);
  }
  await stopAll(servers.map((s) => s.worker));
  const base = median(times[0]!);
  sizes.forEach((size, k) => {
    const ms = median(times[k]!);
    rows.push({
      figure: '4 connect -> snapshot',
      variant: `${size.toLocaleString('en-US')} orders`,
      metric: `median (snapshot ${(bytes[k]! / 1024).toFixed(0)} KiB)`,
      value: ms,
      unit: 'ms',
      ...(k === 0 ? {} : { ratio: ratio(ms, base) }),
      ...(size === 100_000 ? { target: '<= 2x the time at 0', met: ms / base <= 2 } : {}),
    });
  });
  const changing = median(uncached);
  rows.push({ figure: '4 connect -> snapshot', variant: '100,000 orders, store changing', metric: 'median (snapshot rebuilt)', value: changing, unit: 'ms', ratio: ratio(changing, base) });
}

// ---------------------------------------------------------------------------
// 4b. Reconnect storm: many clients back at once, with a snapshot or resuming
// ---------------------------------------------------------------------------

async function reconnectStorm(clients: number, missed: number, rounds: number): Promise<void> {
  const { worker: server, port } = await startServer('liveorders');
  await server.call('seed', { n: 5000 });
  const first = await new Promise<{ seq: number; epoch: string }>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    ws.once('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString()) as { seq: number; epoch: string });
      ws.terminate();
    });
  });
  await server.call('seed', { n: missed }); // the events the resuming clients missed
  /** Open `clients` sockets at once; resolves with server CPU per client when each has its snapshot or its replay. */
  const storm = async (query: string, messagesEach: number): Promise<number> => {
    const before = await cpuMicros(server);
    const sockets = await Promise.all(Array.from({ length: clients }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { perMessageDeflate: false });
      let received = 0;
      ws.on('message', () => {
        if (++received === messagesEach) resolve(ws);
      });
      ws.on('error', reject);
    })));
    const perClient = ((await cpuMicros(server)) - before) / clients;
    for (const ws of sockets) ws.terminate();
    return perClient;
  };
  const snapshot: number[] = [];
  const resume: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const s = await storm('', 1); // the snapshot
    const r = await storm(`?since=${first.seq}&epoch=${first.epoch}`, 2); // resumed, then the missed events
    if (round === 0) continue; // warm-up
    snapshot.push(s);
    resume.push(r);
  }
  await server.stop();
  const figure = `4b reconnect, ${clients} clients at once, median of ${rounds}`;
  rows.push(
    { figure, variant: 'snapshot (1,000 orders)', metric: 'server CPU / client', value: median(snapshot), unit: 'µs' },
    { figure, variant: `resume after ${missed.toLocaleString('en-US')} missed events`, metric: 'server CPU / client', value: median(resume), unit: 'µs', ratio: ratio(median(resume), median(snapshot)) },
  );
}

// ---------------------------------------------------------------------------
// 5. Memory per idle connection
// ---------------------------------------------------------------------------

async function memory(connections: number, rounds: number): Promise<void> {
  // RSS per connection moves by 5-7% between identical runs (when the allocator returns pages), so the two
  // servers alternate for a few rounds and the table quotes medians.
  const samples: Record<string, { rss: number[]; heap: number[] }> = { naive: { rss: [], heap: [] }, liveorders: { rss: [], heap: [] } };
  for (let round = 0; round < rounds; round++) {
    for (const variant of ['naive', 'liveorders'] as const) {
      const { worker: server, port } = await startServer(variant, ['--expose-gc']);
      const before = await server.call<NodeJS.MemoryUsage>('mem');
      const clients = await startClients(port, connections, undefined, 5000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = await server.call<NodeJS.MemoryUsage>('mem');
      samples[variant]!.rss.push((after.rss - before.rss) / connections);
      samples[variant]!.heap.push((after.heapUsed - before.heapUsed) / connections);
      await stopAll([...clients, server]);
    }
  }
  const medianOf = (variant: string): { rss: number; heap: number } => ({ rss: median(samples[variant]!.rss), heap: median(samples[variant]!.heap) });
  const ours = medianOf('liveorders');
  const naive = medianOf('naive');
  rows.push(
    { figure: `5 memory, ${connections.toLocaleString('en-US')} idle connections, median of ${rounds}`, variant: 'naive (a)', metric: 'RSS / connection', value: naive.rss / 1024, unit: 'KiB' },
    { figure: `5 memory, ${connections.toLocaleString('en-US')} idle connections, median of ${rounds}`, variant: 'naive (a)', metric: 'heap / connection', value: naive.heap / 1024, unit: 'KiB' },
    { figure: `5 memory, ${connections.toLocaleString('en-US')} idle connections, median of ${rounds}`, variant: 'liveorders', metric: 'RSS / connection', value: ours.rss / 1024, unit: 'KiB', ratio: ratio(ours.rss, naive.rss), target: '< 12 KiB, <= naive (medians, within 5%)', met: ours.rss / 1024 < 12 && ours.rss <= naive.rss * 1.05 },
    { figure: `5 memory, ${connections.toLocaleString('en-US')} idle connections, median of ${rounds}`, variant: 'liveorders', metric: 'heap / connection', value: ours.heap / 1024, unit: 'KiB', ratio: ratio(ours.heap, naive.heap) },
  );
}

// ---------------------------------------------------------------------------
// 6. List API at 100,000 orders
// ---------------------------------------------------------------------------

async function listApi(samples: number, rounds: number): Promise<void> {
  const sizes = [1000, 100_000] as const;
  // Both stores run at once and the samples alternate, so machine noise hits both sizes alike.
  const servers = await Promise.all(sizes.map(async (size) => {
    const started = await startServer('liveorders');
    await started.worker.call('seed', { n: size });
    return started;
  }));
  for (const path of ['/api/orders?limit=100', '/api/orders?status=pending&limit=100', '/api/stats']) {
    const times: number[][] = sizes.map(() => []);
    for (let i = 0; i < samples + 10; i++) {
      for (const [k, { port }] of servers.entries()) {
        const started = process.hrtime.bigint();
        const res = await http(port, 'GET', path);
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        times[k]!.push(Number(process.hrtime.bigint() - started) / 1e3);
      }
    }
    const [small, large] = times.map((t) => median(t.slice(10))) as [number, number];
    rows.push(
      { figure: `6 GET ${path}`, variant: '1,000 orders', metric: 'median latency', value: small, unit: 'µs' },
      { figure: `6 GET ${path}`, variant: '100,000 orders', metric: 'median latency', value: large, unit: 'µs', ratio: ratio(large, small), target: 'no whole-store scan (~1x)', met: large / small < 2 },
    );
  }
  await stopAll(servers.map((s) => s.worker));

  // A status change takes the order's id out of one status index and puts it into another. Measured in
  // the store alone (bench/store-cpu.ts): over loopback, a request's fixed cost hides the difference.
  // Moving each id in a flat array of 100,000 cost 30-50x the time at 1,000; cache misses alone cost ~2x.
  const worker = new Worker(`${HERE}store-cpu.ts`, [], ['--expose-gc']);
  await worker.ready;
  const perChange: number[][] = sizes.map(() => []);
  for (let round = 0; round <= rounds; round++) {
    for (const [k, size] of sizes.entries()) {
      const us = await worker.call<number>('statusChanges', { size, count: 1000 });
      if (round > 0) perChange[k]!.push(us); // round 0 warms up the JIT
    }
  }
  await worker.stop();
  const [small, large] = perChange.map(median) as [number, number];
  const figure = `6 status change in the store, median of ${rounds}`;
  rows.push(
    { figure, variant: '1,000 orders', metric: 'CPU / change', value: small, unit: 'µs' },
    { figure, variant: '100,000 orders', metric: 'CPU / change', value: large, unit: 'µs', ratio: ratio(large, small), target: 'no whole-index move (< 5x)', met: large / small < 5 },
  );
}

// ---------------------------------------------------------------------------
// 7. Durability: the journal against memory, fsync, start-up, disk
// ---------------------------------------------------------------------------

/** fdatasync after appending one small record, on this machine's disk (in µs): what durability costs per flush. */
async function fsyncCost(samples: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-fsync-'));
  const handle = await open(join(dir, 'probe'), 'w');
  const record = Buffer.alloc(300, 120);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      await handle.write(record);
      const started = process.hrtime.bigint();
      await handle.datasync();
      times.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  } finally {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function durability(seconds: number, rounds: number, sizes: readonly number[]): Promise<void> {
  const fsync = await fsyncCost(FULL ? 1000 : 300);
  rows.push({ figure: '7a fdatasync after a 300-byte append', variant: 'this machine', metric: 'median (p99 in ratio column)', value: median(fsync), unit: 'µs', ratio: `p99 ${percentile(fsync, 0.99).toFixed(0)} µs` });

  // Memory and journal side by side, taking turns, as in figure 3.
  const variants = ['liveorders', 'journal'] as const;
  const servers = await Promise.all(variants.map((variant) => startServer(variant)));
  const load = (port: number): Promise<autocannon.Result> =>
    autocannon({ url: `http://127.0.0.1:${port}/api/orders`, method: 'POST', connections: 50, duration: seconds, headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
  for (const { port } of servers) await load(port); // warm-up pass, discarded
  const samples = variants.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < servers.length; turn++) {
      const i = (round + turn) % servers.length;
      const before = await cpuMicros(servers[i]!.worker);
      const result = await load(servers[i]!.port);
      const cpu = (await cpuMicros(servers[i]!.worker)) - before;
      if (result.non2xx > 0 || result.errors > 0) notes.push(`durability: ${result.non2xx} non-2xx, ${result.errors} errors from ${variants[i]}`);
      samples[i]!.rps.push(result.requests.average);
      samples[i]!.p50.push(result.latency.p50);
      samples[i]!.p99.push(result.latency.p99);
      samples[i]!.cpu.push(cpu / (result.requests.average * seconds));
    }
  }
  const journalStats = await servers[1]!.worker.call<{ seq: number; storage: { flushes: { count: number } } }>('stats');
  // Isolated creates, one at a time: what a single client waits for.
  const isolated = variants.map(() => [] as number[]);
  for (let i = 0; i < (FULL ? 400 : 150); i++) {
    for (const [k, { port }] of servers.entries()) {
      const started = process.hrtime.bigint();
      await createOrder(port, i);
      isolated[k]!.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  }
  await stopAll(servers.map((s) => s.worker));
  const [memory, journal] = samples.map((s) => ({ rps: median(s.rps), p50: median(s.p50), p99: median(s.p99), cpu: median(s.cpu) })) as [DurabilityRun, DurabilityRun];
  const figure = `7b POST /api/orders, 50 connections, median of ${rounds}`;
  rows.push(
    { figure, variant: 'liveorders, memory', metric: 'requests/s', value: memory.rps, unit: 'req/s' },
    { figure, variant: 'liveorders, journal', metric: 'requests/s', value: journal.rps, unit: 'req/s', ratio: ratio(journal.rps, memory.rps), target: '>= 0.60x memory', met: journal.rps / memory.rps >= 0.6 },
    { figure, variant: 'liveorders, memory', metric: 'latency p50 / p99 under load (ms)', value: memory.p50, unit: 'ms', ratio: `p99 ${memory.p99} ms` },
    { figure, variant: 'liveorders, journal', metric: 'latency p50 / p99 under load (ms)', value: journal.p50, unit: 'ms', ratio: `p99 ${journal.p99} ms` },
    { figure, variant: 'liveorders, memory', metric: 'server CPU / request', value: memory.cpu, unit: 'µs' },
    { figure, variant: 'liveorders, journal', metric: 'server CPU / request', value: journal.cpu, unit: 'µs', ratio: ratio(journal.cpu, memory.cpu) },
    { figure, variant: 'liveorders, journal', metric: 'writes per flush (group commit)', value: journalStats.seq / journalStats.storage.flushes.count, unit: '' },
  );
  for (const [k, variant] of ['memory', 'journal'].entries()) {
    rows.push({ figure: '7b one create at a time', variant: `liveorders, ${variant}`, metric: 'latency p50 (p99 in ratio column)', value: median(isolated[k]!), unit: 'µs', ratio: `p99 ${percentile(isolated[k]!, 0.99).toFixed(0)} µs` });
  }

  const worker = new Worker(`${HERE}startup.ts`);
  await worker.ready;
  for (const n of sizes) {
    progress(`durability: start-up with ${n} orders`);
    const r = await worker.call<Record<string, number>>('startup', { n });
    const name = `${n.toLocaleString('en')} orders`;
    const target = n >= 1_000_000 ? 15_000 : 2000;
    rows.push(
      { figure: '7c start-up (open, read, build the projection)', variant: name, metric: 'from the journal alone', value: r.fromJournalMs!, unit: 'ms' },
      { figure: '7c start-up (open, read, build the projection)', variant: name, metric: 'after a compaction (snapshot)', value: r.fromSnapshotMs!, unit: 'ms', target: `< ${target / 1000} s`, met: r.fromSnapshotMs! < target && r.fromJournalMs! < target },
      { figure: '7c disk per order', variant: name, metric: 'journal / snapshot', value: r.journalBytesPerOrder!, unit: 'B', ratio: `${r.snapshotBytesPerOrder!.toFixed(0)} B` },
    );
  }
  await worker.stop();
}

// ---------------------------------------------------------------------------
// 8. Several instances on Redis
// ---------------------------------------------------------------------------

/** Redis's own CPU so far (user + system), in µs, from INFO. */
async function redisCpuMicros(url: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  const info = String(await client.sendCommand(['INFO', 'cpu']));
  await client.close();
  const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
}

/** `count` instances sharing a new history in Redis. */
async function startRedisInstances(url: string, prefix: string, count: number): Promise<{ worker: Worker; port: number }[]> {
  return Promise.all(Array.from({ length: count }, async () => {
    const worker = new Worker(`${HERE}server-process.ts`, ['redis', url, prefix]);
    pin(worker.child.pid, SERVER_CORE);
    return { worker, port: Number((await worker.ready).port) };
  }));
}

async function severalInstances(seconds: number, rounds: number, watchers: number, creates: number): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    notes.push('figure 8 (Redis) skipped: no redis-server on this machine (apt-get install redis-server)');
    return;
  }
  const redis = await startRedis();
  let histories = 0;
  try {
    // 8a. One create at a time: what a single client waits for, memory next to Redis.
    const memory = await startServer('liveorders');
    const [single] = await startRedisInstances(redis.url, `bench-${++histories}`, 1);
    const isolated: number[][] = [[], []];
    for (let i = 0; i < (FULL ? 400 : 200); i++) {
      for (const [k, port] of [memory.port, single!.port].entries()) {
        const started = process.hrtime.bigint();
        await createOrder(port, i);
        isolated[k]!.push(Number(process.hrtime.bigint() - started) / 1000);
      }
    }
    const writes = ((await single!.worker.call<{ storage: { writes: { p50Ms: number; p99Ms: number } } }>('stats')).storage.writes);
    await stopAll([memory.worker, single!.worker]);
    rows.push(
      { figure: '8a one create at a time', variant: 'liveorders, memory', metric: 'latency p50 (p99 in ratio column)', value: median(isolated[0]!), unit: 'µs', ratio: `p99 ${percentile(isolated[0]!, 0.99).toFixed(0)} µs` },
      { figure: '8a one create at a time', variant: 'liveorders, redis', metric: 'latency p50 (p99 in ratio column)', value: median(isolated[1]!), unit: 'µs', ratio: `p99 ${percentile(isolated[1]!, 0.99).toFixed(0)} µs` },
      { figure: '8a one create at a time', variant: 'liveorders, redis', metric: 'added by Redis, p50 (ratio: redis / memory)', value: median(isolated[1]!) - median(isolated[0]!), unit: 'µs', ratio: ratio(median(isolated[1]!), median(isolated[0]!)) },
      { figure: '8a one create at a time', variant: 'liveorders, redis', metric: 'the append script, as the instance timed it: p50 (p99)', value: writes.p50Ms * 1000, unit: 'µs', ratio: `p99 ${(writes.p99Ms * 1000).toFixed(0)} µs` },
    );

    // 8b. Write throughput: one instance, three instances sharing the load, memory for reference; taking turns.
    const load = (ports: readonly number[]): Promise<autocannon.Result[]> =>
      Promise.all(ports.map((port) => autocannon({ url: `http://127.0.0.1:${port}/api/orders`, method: 'POST', connections: Math.round(48 / ports.length), duration: seconds, headers: { 'content-type': 'application/json' }, body: ORDER_BODY })));
    const setups = [
      { name: 'liveorders, memory, 1 instance', servers: [await startServer('liveorders')], redis: false },
      { name: 'liveorders, redis, 1 instance', servers: await startRedisInstances(redis.url, `bench-${++histories}`, 1), redis: true },
      { name: 'liveorders, redis, 3 instances', servers: await startRedisInstances(redis.url, `bench-${++histories}`, 3), redis: true },
    ];
    for (const setup of setups) await load(setup.servers.map((s) => s.port)); // warm-up pass, discarded
    const samples = setups.map(() => ({ rps: [] as number[], cpu: [] as number[], redisCpu: [] as number[], p50: [] as number[], p99: [] as number[] }));
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < setups.length; turn++) {
        const i = (round + turn) % setups.length;
        const { servers } = setups[i]!;
        const before = await Promise.all(servers.map((s) => cpuMicros(s.worker)));
        const redisBefore = await redisCpuMicros(redis.url);
        const results = await load(servers.map((s) => s.port));
        const cpu = (await Promise.all(servers.map((s) => cpuMicros(s.worker)))).reduce((sum, after, k) => sum + after - before[k]!, 0);
        const redisCpu = (await redisCpuMicros(redis.url)) - redisBefore;
        for (const result of results) if (result.non2xx > 0 || result.errors > 0) notes.push(`redis throughput: ${result.non2xx} non-2xx, ${result.errors} errors (${setups[i]!.name})`);
        const total = results.reduce((sum, r) => sum + r.requests.total, 0);
        samples[i]!.rps.push(results.reduce((sum, r) => sum + r.requests.average, 0));
        samples[i]!.cpu.push(cpu / total);
        samples[i]!.redisCpu.push(redisCpu / total);
        samples[i]!.p50.push(Math.max(...results.map((r) => r.latency.p50)));
        samples[i]!.p99.push(Math.max(...results.map((r) => r.latency.p99)));
      }
    }
    await stopAll(setups.flatMap((setup) => setup.servers.map((s) => s.worker)));
    const figureB = `8b POST /api/orders, 48 connections in all, median of ${rounds}`;
    const memoryRps = median(samples[0]!.rps);
    for (const [i, setup] of setups.entries()) {
      const s = samples[i]!;
      rows.push(
        { figure: figureB, variant: setup.name, metric: 'requests/s (all instances)', value: median(s.rps), unit: 'req/s', ...(i === 0 ? {} : { ratio: ratio(median(s.rps), memoryRps) }) },
        { figure: figureB, variant: setup.name, metric: 'instances CPU / request (p50 / p99 latency in ratio column)', value: median(s.cpu), unit: 'µs', ratio: `${median(s.p50)} / ${median(s.p99)} ms` },
      );
      if (setup.redis) rows.push({ figure: figureB, variant: setup.name, metric: 'Redis CPU / request', value: median(s.redisCpu), unit: 'µs' });
    }

    // 8c. A burst of creates while the same number of clients watch: one instance holding all of them, or three a third each.
    const figureC = `8c burst ${creates} creates, ${watchers} clients`;
    const violations: number[] = [];
    for (const count of [1, 3]) {
      const servers = await startRedisInstances(redis.url, `bench-${++histories}`, count);
      const clients = (await Promise.all(servers.map((s) => startClients(s.port, watchers / count)))).flat();
      const ports = servers.map((s) => s.port);
      const burst = async (n: number): Promise<void> => {
        await pool(20, Array.from({ length: n }, (_, i) => () => createOrder(ports[i % ports.length]!, i)));
      };
      await armAll(clients, 20);
      await burst(20); // warm-up
      await waitAll(clients);
      await armAll(clients, creates);
      const before = await Promise.all(servers.map((s) => cpuMicros(s.worker)));
      const redisBefore = await redisCpuMicros(redis.url);
      const started = process.hrtime.bigint();
      await burst(creates);
      const done = await waitAll(clients);
      const cpu = (await Promise.all(servers.map((s) => cpuMicros(s.worker)))).reduce((sum, after, k) => sum + after - before[k]!, 0);
      const redisCpu = (await redisCpuMicros(redis.url)) - redisBefore;
      await stopAll([...clients, ...servers.map((s) => s.worker)]);
      const name = count === 1 ? `1 instance, ${watchers} watchers` : `${count} instances, ${watchers / count} watchers each`;
      rows.push(
        { figure: figureC, variant: name, metric: 'instances CPU / delivered event', value: cpu / (creates * watchers), unit: 'µs' },
        { figure: figureC, variant: name, metric: 'all clients have all events', value: Number(done.at - started) / 1e6, unit: 'ms' },
        { figure: figureC, variant: name, metric: 'Redis CPU / create', value: redisCpu / creates, unit: 'µs' },
      );
      violations.push(done.violations);
    }
    rows.push({ figure: figureC, variant: 'both', metric: 'events lost, reordered or repeated', value: violations.reduce((a, b) => a + b, 0), unit: '', target: '0', met: violations.every((v) => v === 0) });
  } finally {
    await redis.dispose();
  }
}

interface DurabilityRun {
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
}

// ---------------------------------------------------------------------------

const started = Date.now();
if (should('isolated')) {
  await isolatedEvents(1000, FULL ? 400 : 60, FULL ? 10 : 5);
  await isolatedEvents(5000, FULL ? 200 : 30, FULL ? 10 : 5);
}
if (should('burst')) await bursts(1000, 1000);
if (should('latency')) await isolatedLatency(FULL ? 300 : 60);
if (should('throughput')) await throughput(FULL ? 5 : 3, FULL ? 7 : 3, 1000);
if (should('handler')) await handlerCpu(FULL ? 31 : 15);
if (should('connect')) await connectCost(FULL ? 200 : 60);
if (should('durability')) await durability(FULL ? 5 : 3, FULL ? 5 : 3, [100_000, 1_000_000]);
if (should('redis')) await severalInstances(FULL ? 5 : 3, FULL ? 5 : 3, 3000, 1000);
if (should('storm')) await reconnectStorm(FULL ? 1000 : 300, 1000, FULL ? 7 : 3);
if (should('memory')) await memory(10_000, FULL ? 5 : 3);
if (should('list')) await listApi(FULL ? 1000 : 200, FULL ? 15 : 7);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`\nliveorders benchmarks (${FULL ? 'full' : 'quick'}) on ${machine}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
console.table(rows.map((r) => ({
  figure: r.figure,
  variant: r.variant,
  metric: r.metric,
  value: `${r.value < 10 ? r.value.toFixed(2) : r.value.toFixed(0)} ${r.unit}`.trim(),
  ratio: r.ratio ?? '',
  target: r.target ?? '',
  met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
})));
for (const note of notes) console.log(`note: ${note}`);
mkdirSync(`${HERE}results`, { recursive: true });
writeFileSync(`${HERE}results/bench.json`, JSON.stringify({ machine, mode: FULL ? 'full' : 'quick', date: new Date().toISOString(), rows, notes }, null, 2));
agent.destroy();
process.exit(0);
