/**
 * @module scripts/demo
 * `npm run demo`: the service on a temporary data folder, and a generator
 * that creates orders and moves them along at a human pace, so the board
 * (and a customer's tracking page) has something to show. It prints the
 * board's address and one customer tracking link; Ctrl-C stops both and
 * removes the folder. The generator is an ordinary REST client of the
 * service, as a shop's checkout and warehouse would be.
 *
 *   npm run demo                       # on PORT (default 8000)
 *   npm run demo -- --pace 500         # faster: a step every ~0.5 s
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALLOWED_TRANSITIONS, type CreatedOrder, type Order, type OrderStatus } from '../src/protocol.ts';
import { onStopSignal, startChild, stopChild, waitForOutput } from './children.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/** Milliseconds between the generator's steps, on average (each waits 0.5 to 1.5 times this). */
const DEFAULT_PACE_MS = 2500;
/** Orders made before the first step, so the board is not empty when it opens. */
const SEED_ORDERS = 6;
/** Open orders the generator aims for: below it, it mostly creates; above it, it mostly moves orders along. */
const TARGET_OPEN = 12;
/** Chance that an order not yet shipped is cancelled instead of moved forward. */
const CANCEL_CHANCE = 0.08;

const CUSTOMERS = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Edsger Dijkstra', 'Barbara Liskov', 'Linus Torvalds', 'Margaret Hamilton', 'Donald Knuth', 'Radia Perlman', '山田 花子', 'José Martínez', 'Zoë Ångström'];
const PRODUCTS: readonly { name: string; price: number }[] = [
  { name: 'laptop', price: 1299 },
  { name: 'mouse', price: 19.99 },
  { name: 'keyboard', price: 49.5 },
  { name: 'monitor', price: 239 },
  { name: 'usb-c cable', price: 9.9 },
  { name: 'headphones', price: 89 },
  { name: 'webcam', price: 59 },
  { name: 'desk lamp', price: 34.75 },
];
/** The usual next step from each open status (cancellation is drawn separately). */
const NEXT: Partial<Record<OrderStatus, OrderStatus>> = { pending: 'processing', processing: 'shipped', shipped: 'delivered' };

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}

function randomOrder(): { customerName: string; items: { name: string; quantity: number; price: number }[] } {
  const count = 1 + Math.floor(Math.random() * 3);
  const items = Array.from({ length: count }, () => ({ ...pick(PRODUCTS), quantity: 1 + Math.floor(Math.random() * 2) }));
  // One line per product.
  const unique = items.filter((item, i) => items.findIndex((other) => other.name === item.name) === i);
  return { customerName: pick(CUSTOMERS), items: unique };
}

/** The generator: each step creates an order or moves one along, over HTTP like any client. */
class Generator {
  readonly #base: string;
  readonly #paceMs: number;
  readonly #open = new Map<string, Order>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(base: string, paceMs: number) {
    this.#base = base;
    this.#paceMs = paceMs;
  }

  /** Create an order; returns it with its tracking token. */
  async create(): Promise<CreatedOrder> {
    const res = await fetch(`${this.#base}/api/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(randomOrder()) });
    if (res.status !== 201) throw new Error(`creating an order: HTTP ${res.status} ${await res.text()}`);
    const created = (await res.json()) as CreatedOrder;
    this.#open.set(created.id, created);
    process.stdout.write(`demo: new order ${created.id.slice(-8)} for ${created.customerName}\n`);
    return created;
  }

  /** Take steps until stopped. */
  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#step().then(
        () => this.#schedule(),
        (error: unknown) => {
          if (this.#stopped) return;
          process.stderr.write(`demo: ${(error as Error).message}\n`);
          this.#schedule();
        },
      );
    }, this.#paceMs * (0.5 + Math.random()));
  }

  async #step(): Promise<void> {
    const createChance = this.#open.size < TARGET_OPEN ? 0.6 : 0.25;
    if (this.#open.size === 0 || Math.random() < createChance) {
      await this.create();
      return;
    }
    const order = pick([...this.#open.values()]);
    const cancel = ALLOWED_TRANSITIONS[order.status].includes('cancelled') && Math.random() < CANCEL_CHANCE;
    const status = cancel ? 'cancelled' : NEXT[order.status];
    if (status === undefined) {
      this.#open.delete(order.id);
      return;
    }
    const res = await fetch(`${this.#base}/api/orders/${order.id}/status`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', 'If-Match': `"${order.version}"` },
      body: JSON.stringify({ status }),
    });
    if (res.status === 404 || res.status === 409 || res.status === 412) {
      // Someone else (the person trying the board) moved or deleted it: forget it, the next step goes on.
      this.#open.delete(order.id);
      return;
    }
    if (res.status !== 200) throw new Error(`moving ${order.id}: HTTP ${res.status} ${await res.text()}`);
    const moved = (await res.json()) as Order;
    if (moved.status === 'delivered' || moved.status === 'cancelled') this.#open.delete(moved.id);
    else this.#open.set(moved.id, moved);
    process.stdout.write(`demo: ${moved.id.slice(-8)} ${order.status} -> ${moved.status}\n`);
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { pace: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write('npm run demo -- [--pace MS]\n\nThe service on a temporary folder (PORT, default 8000) and orders that come in and move along\nabout every MS milliseconds (default 2500). Ctrl-C stops it and removes the folder.\n');
    return;
  }
  const paceMs = Number(values.pace ?? DEFAULT_PACE_MS);
  if (!(Number.isFinite(paceMs) && paceMs >= 10 && paceMs <= 600_000)) {
    process.stderr.write('demo: --pace: expected milliseconds from 10 to 600000\n');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-demo-'));
  const env = { ...process.env, STORAGE: 'journal', DATA_DIR: dir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const server = startChild('server', process.execPath, ['--import', 'tsx', MAIN], { env, out: process.stderr });
  let generator: Generator | undefined;
  let stopping = false;
  const stop = async (code: number, why?: string): Promise<void> => {
    stopping = true;
    generator?.stop();
    if (why !== undefined) process.stderr.write(`demo: ${why}\n`);
    await stopChild(server);
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`demo: stopped; removed ${dir}\n`);
    process.exit(code);
  };
  onStopSignal(() => void stop(0));
  void server.exited.then((code) => {
    if (!stopping) void stop(1, `the server exited (${code})`);
  });
  let base: string;
  try {
    base = (await waitForOutput(server, /liveorders: (http:\/\/\S+)/))[1]!;
  } catch (error) {
    return stop(1, (error as Error).message);
  }
  generator = new Generator(base, paceMs);
  let first: CreatedOrder;
  try {
    first = await generator.create();
    for (let i = 1; i < SEED_ORDERS; i++) await generator.create();
  } catch (error) {
    return stop(1, (error as Error).message);
  }
  process.stdout.write(
    `\ndemo: the board          ${base}/\n` +
      `demo: a customer's page  ${base}/track/${first.trackingToken}  (${first.customerName}'s order)\n` +
      `demo: orders come in and move along every ${(paceMs / 1000).toFixed(1)} s or so; data in ${dir}; Ctrl-C stops\n\n`,
  );
  generator.start();
}

void main();
