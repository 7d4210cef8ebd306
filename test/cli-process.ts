/**
 * The terminal client as a real child process, for the CLI tests: its output
 * can be awaited line by line, its stdin written to, and it can run in a
 * pseudo-terminal (through util-linux `script`) when the behaviour under test
 * needs a terminal: its width, raw mode, Ctrl-C typed as a key.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { requirement } from './requirements.ts';

/** The client's entry module, and the installed `liveorders-watch` command. */
export const CLI = new URL('../cli/ws-client.ts', import.meta.url).pathname;
export const BIN = new URL('../cli/bin.js', import.meta.url).pathname;
/** The project directory, where `npm run` and `npx` find the client. */
export const PROJECT = new URL('..', import.meta.url).pathname;

/** Whether util-linux `script` is here to give a child a pseudo-terminal. */
/** util-linux `script`, which gives a child a pseudo-terminal: the terminal suites need it. */
export const PSEUDO_TERMINAL = requirement('script', ['--version'], 'util-linux script for a pseudo-terminal (Debian: bsdutils)');

/** How to start a {@link Cli}. */
export interface CliOptions {
  /** Run `cli/bin.js` (as `npx liveorders-watch` does) rather than `node --import tsx cli/ws-client.ts`. */
  readonly bin?: boolean;
  readonly env?: Record<string, string>;
  /** Give the child a stdin pipe (for `--interactive`, or keys in a terminal). */
  readonly stdin?: boolean;
}

/** A running client (or a shell command running it) whose output can be awaited. */
export class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number>;
  #waiters: (() => void)[] = [];

  /**
   * @param args the client's arguments; or `{ terminal }`, a shell command to
   *   run in a pseudo-terminal whose keyboard is stdin (what is written to it is
   *   typed); its output comes back with CRLF line ends
   * @param options how to start it
   */
  constructor(args: string[] | { readonly terminal: string }, options: CliOptions = {}) {
    if (Array.isArray(args)) {
      const argv = options.bin ? [BIN, ...args] : ['--import', 'tsx', CLI, ...args];
      this.child = Cli.#spawn(process.execPath, argv, options.env, options.stdin === true);
    } else {
      this.child = Cli.#spawn('script', ['--quiet', '--return', '--flush', '--command', args.terminal, '/dev/null'], options.env, true);
    }
    this.exited = this.#watch();
  }

  static #spawn(command: string, argv: string[], env: Record<string, string> | undefined, stdin: boolean): ChildProcess {
    return spawn(command, argv, { cwd: PROJECT, env: { ...process.env, NO_COLOR: '', ...env }, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  }

  #watch(): Promise<number> {
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.#wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.#wake();
    });
    after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
    return new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))));
  }

  /** Non-empty stdout lines, without the CR a terminal adds. */
  get lines(): string[] {
    return this.stdout.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
  }

  /** Write to the child's stdin (type, in a terminal). */
  type(text: string): void {
    this.child.stdin!.write(text);
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

/**
 * Cells a terminal gives `line`, counted independently of cli/width.ts for
 * the characters the tests use: CJK, Hangul, fullwidth forms and emoji take
 * two, combining marks and the zero width joiner none, colours none.
 * @param line one line of output
 */
export function terminalCells(line: string): number {
  let cells = 0;
  // eslint-disable-next-line no-control-regex
  for (const char of line.replace(/\u001b\[[0-9;]*m/g, '')) {
    const cp = char.codePointAt(0)!;
    if (/\p{M}/u.test(char) || cp === 0x200d) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      cp >= 0x20000;
    cells += wide ? 2 : 1;
  }
  return cells;
}

/** Customer names that take more or fewer cells than they have UTF-16 units. */
export const WIDE_NAMES = [
  '山田太郎商店の特別注文品の配送先です',
  '김민준 한국어 고객님 주문',
  'Ｆｕｌｌｗｉｄｔｈ Ｃｏｍｐａｎｙ',
  '🍕🍕 Pizza Party 🎉🎉 tonight',
  'Rene\u0301e Ze\u0301phyr Cafe\u0301 combining',
  'Family 👨‍👩‍👧 order from 東京',
] as const;
