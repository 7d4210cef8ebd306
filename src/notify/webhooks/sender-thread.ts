/**
 * @module notify/webhooks/sender-thread
 * Webhook attempts made on a thread of their own, at a lower priority
 * than the thread that serves requests. Signing stays here; the outgoing
 * HTTP (address checks, connections, TLS, reading answers) is the costly
 * part, and there the operating system, not our code, decides who waits:
 * while requests keep the serving thread busy on the same core, the
 * sender gets a small share and its backlog waits in the durable
 * positions; with a core to spare it runs beside the server at full
 * speed. The thread starts with the first endpoint's worker (or the
 * first attempt), so a server with no endpoints never has one; if it dies, the attempts in flight fail (and
 * are retried on the schedule) and the next attempt starts a new one.
 */

import { Worker } from 'node:worker_threads';
import type { AttemptRequest, AttemptResult } from './send.ts';
import type { SenderReply, SenderRequest } from './sender-messages.ts';

/** What makes attempts: the sender thread, or anything that sends the same way. */
export interface Sender {
  /**
   * Make one attempt.
   * @param request where, what, and how long to wait
   * @param pool the kept connections to use (one pool per endpoint); none: a connection for this attempt only
   */
  send(request: AttemptRequest, pool?: string): Promise<AttemptResult>;
  /** Close a pool's kept connections (its endpoint stopped). */
  closePool(pool: string): void;
  /** Start the thread now, so that the first attempt does not wait for it to load. */
  prepare(): void;
  /** Stop: attempts in flight end as cancelled. */
  stop(): Promise<void>;
}

/** The thread's module, started through a loader that can read TypeScript (a worker does not inherit `--import tsx` on Node 20). */
const BOOT = new URL('./sender-thread-boot.mjs', import.meta.url);
const ENTRY = new URL('./sender-thread-entry.ts', import.meta.url);

interface PendingAttempt {
  readonly resolve: (result: AttemptResult) => void;
  readonly startedAt: number;
  readonly unlisten: () => void;
}

/** The sender on its own thread. */
export class SenderThread implements Sender {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, PendingAttempt>();
  #nextId = 1;
  #stopped = false;
  readonly #onError: (error: Error) => void;

  /** @param onError told when the thread fails (its attempts in flight fail with it) */
  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  send(request: AttemptRequest, pool?: string): Promise<AttemptResult> {
    const startedAt = performance.now();
    if (this.#stopped || request.signal?.aborted === true) return Promise.resolve(cancelled(startedAt));
    const id = this.#nextId++;
    const { signal, ...rest } = request;
    return new Promise<AttemptResult>((resolve) => {
      const onAbort = (): void => {
        if (this.#worker !== undefined) this.#post({ type: 'cancel', id });
        this.#settle(id, cancelled(startedAt));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, { resolve, startedAt, unlisten: () => signal?.removeEventListener('abort', onAbort) });
      try {
        this.#post({ type: 'send', id, request: rest, ...(pool === undefined ? {} : { pool }) });
      } catch (error) {
        // No thread could be started (out of memory, too many threads): this attempt fails and is retried.
        this.#settle(id, { status: null, error: `the sender thread could not start: ${(error as Error).message}`, durationMs: elapsed(startedAt) });
      }
    });
  }

  closePool(pool: string): void {
    if (this.#worker !== undefined) this.#post({ type: 'close-pool', pool });
  }

  prepare(): void {
    if (this.#stopped) return;
    try {
      this.#thread();
    } catch (error) {
      this.#onError(error as Error); // the first attempt tries again
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(() => 'cancelled');
    await worker?.terminate();
  }

  #post(message: SenderRequest): void {
    this.#thread().postMessage(message);
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(BOOT, { workerData: { entry: ENTRY.href } });
    // It never holds the process open: the service stops it, and a process that is ending has nothing left to send.
    worker.unref();
    worker.on('message', (reply: SenderReply) => this.#settle(reply.id, reply.result));
    worker.on('error', (error) => {
      this.#onError(error);
      this.#lose(worker, `the sender thread failed: ${error.message}`);
    });
    worker.on('exit', (code) => this.#lose(worker, `the sender thread exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  /** The thread is gone: its attempts fail (and are retried), and the next attempt starts a new one. */
  #lose(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#failAll(() => why);
  }

  #failAll(why: () => string): void {
    for (const [id, attempt] of this.#pending) this.#settle(id, { status: null, error: why(), durationMs: elapsed(attempt.startedAt) });
  }

  #settle(id: number, result: AttemptResult): void {
    const attempt = this.#pending.get(id);
    if (attempt === undefined) return; // cancelled before its answer came
    this.#pending.delete(id);
    attempt.unlisten();
    attempt.resolve(result);
  }
}

function cancelled(startedAt: number): AttemptResult {
  return { status: null, error: 'cancelled', durationMs: elapsed(startedAt) };
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
