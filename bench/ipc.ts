/**
 * Request/response over a forked child's IPC channel, so the benchmark
 * harness can drive the server and client processes it starts.
 */

import { fork, type ChildProcess } from 'node:child_process';

/** A request as sent to a child. */
export interface IpcRequest {
  readonly id: number;
  readonly cmd: string;
  readonly args?: Record<string, unknown>;
}

/** A child process that answers requests. */
export class Worker {
  readonly child: ChildProcess;
  #nextId = 1;
  #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly ready: Promise<Record<string, unknown>>;

  /**
   * @param script path of the TypeScript module to fork (run through tsx)
   * @param args its argv
   * @param execArgv extra Node flags (e.g. --expose-gc)
   */
  constructor(script: string, args: string[] = [], execArgv: string[] = []) {
    this.child = fork(script, args, { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
      this.child.on('message', (message: { ready?: Record<string, unknown>; id?: number; result?: unknown; error?: string }) => {
        if (message.ready !== undefined) return resolve(message.ready);
        const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id!);
        if (message.error !== undefined) pending.reject(new Error(message.error));
        else pending.resolve(message.result);
      });
    });
  }

  /** Ask the child to do something and wait for its answer. */
  call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, cmd, args } satisfies IpcRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/**
 * In a child: answer requests with `handlers`, and tell the parent it is ready.
 * @param handlers one async function per command
 * @param ready what to report as ready (e.g. the port)
 */
export function serve(handlers: Record<string, (args: Record<string, unknown>) => unknown>, ready: Record<string, unknown>): void {
  process.on('message', async (request: IpcRequest) => {
    const handler = handlers[request.cmd];
    try {
      if (handler === undefined) throw new Error(`unknown command ${request.cmd}`);
      const result = await handler(request.args ?? {});
      process.send!({ id: request.id, result });
    } catch (error) {
      process.send!({ id: request.id, error: (error as Error).message });
    }
  });
  // When the harness goes away (finished or crashed), so do its workers.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready });
}
