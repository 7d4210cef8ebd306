/**
 * @module scripts/children
 * Child processes for the helper scripts (`npm run cluster`, `npm run demo`):
 * each started in a process group of its own (so a Ctrl-C reaches the script,
 * which stops them in order, rather than every child at once), its output
 * written line by line behind a prefix, and all of them stopped together.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** How long a child has to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** One child, its name, and when it exits. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Everything it wrote so far (for error messages). */
  output(): string;
}

/** Options for {@link startChild}. */
export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Where prefixed lines go. @default process.stdout */
  readonly out?: NodeJS.WritableStream;
}

/**
 * Start a program with its output prefixed by `[name] `, one line at a time.
 * @param name the prefix
 * @param command the program
 * @param args its arguments
 * @param options environment, folder, output
 */
export function startChild(name: string, command: string, args: readonly string[], options: ChildOptions = {}): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = options.out ?? process.stdout;
  let output = '';
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
    stream.on('end', () => {
      if (partial !== '') out.write(`${prefix}${partial}\n`);
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      output += `${error.message}\n`;
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 1));
  });
  return { name, process: child, exited, output: () => output };
}

/**
 * Stop a child: SIGTERM, then SIGKILL if it has not exited within the grace period.
 * @param child the child
 */
export async function stopChild(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Resolve once `text` appears in the child's output; reject if it exits first or `timeoutMs` passes.
 * @param child the child
 * @param pattern what to wait for
 * @param timeoutMs how long
 * @returns the match
 */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(child.output());
      if (m === null) return false;
      cleanup();
      resolve(m);
      return true;
    };
    const onData = (): void => void check();
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} did not print ${pattern} within ${timeoutMs / 1000}s:\n${child.output()}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.process.stdout?.off('data', onData);
      child.process.stderr?.off('data', onData);
    };
    // Listeners added after startChild's own, so the output they read already holds the chunk.
    child.process.stdout?.on('data', onData);
    child.process.stderr?.on('data', onData);
    void child.exited.then((code) => {
      if (check()) return;
      cleanup();
      reject(new Error(`${child.name} exited (${code}) before printing ${pattern}:\n${child.output()}`));
    });
    check();
  });
}

/** A port nothing listens on now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Call `stop` once on SIGINT, SIGTERM or SIGHUP (a second signal while
 * stopping is ignored: the stop is already under way).
 * @param stop what to do
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      stop(signal);
    });
  }
}
