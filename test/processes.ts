/**
 * The service as separate processes (`npm start`'s entry point), for tests
 * that need real restarts and `kill -9`: start one with an environment and
 * learn its address from the line it prints; list every order it holds.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Order } from '../src/protocol.ts';
import { request } from './helpers.ts';

/** `npm start`'s entry point. */
export const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/** A started process and where it listens. */
export interface StartedProcess {
  readonly child: ChildProcess;
  /** `http://host:port` */
  readonly base: string;
  /** Resolves with the exit code (or null after a signal). */
  readonly exited: Promise<unknown>;
}

/**
 * Start a command that runs the service and resolve once it listens.
 * @param command the program (`node`, or a wrapper such as `unshare`)
 * @param args its arguments
 * @param env added to this process's environment, after PORT=0 and LOG_LEVEL=warn
 */
export async function startProcess(command: string, args: string[], env: Record<string, string>): Promise<StartedProcess> {
  const child = spawn(command, args, { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /liveorders: (http:\/\/[^\s]+)/.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`the server exited with ${String(code)}: ${stderr}`)));
  });
  return { child, base, exited };
}

/**
 * Start the service with `node --import tsx src/main.ts`.
 * @param env its settings (STORAGE, DATA_DIR, REDIS_URL, ...)
 */
export function startInstance(env: Record<string, string>): Promise<StartedProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', MAIN], env);
}

/**
 * Every order on a server, through the paged list.
 * @param base the server's http:// base
 */
export async function allOrders(base: string): Promise<Order[]> {
  const orders: Order[] = [];
  let path: string | undefined = '/api/orders?limit=1000';
  while (path !== undefined) {
    const res = await request(base, 'GET', path);
    assert.equal(res.status, 200);
    orders.push(...(res.body as Order[]));
    path = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return orders;
}
