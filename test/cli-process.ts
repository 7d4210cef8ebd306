/**
 * The terminal client as a real child process, for the CLI tests: its output
 * can be awaited line by line.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';

/** The client's entry module, and the installed `liveorders-watch` command. */
export const CLI = new URL('../cli/ws-client.ts', import.meta.url).pathname;
export const BIN = new URL('../cli/bin.js', import.meta.url).pathname;

/** How to start a {@link Cli}. */
export interface CliOptions {
  /** Run `cli/bin.js` (as `npx liveorders-watch` does) rather than `node --import tsx cli/ws-client.ts`. */
  readonly bin?: boolean;
  readonly env?: Record<string, string>;
}

/** A running client whose output can be awaited. */
export class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], options: CliOptions = {}) {
    const argv = options.bin ? [BIN, ...args] : ['--import', 'tsx', CLI, ...args];
    this.child = spawn(process.execPath, argv, { env: { ...process.env, NO_COLOR: '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.#wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.#wake();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))));
    after(() => {
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    });
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '');
  }

  /** Wait until `predicate(stdout, stderr)` holds. */
  async until(predicate: (stdout: string, stderr: string) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.stdout, this.stderr)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
