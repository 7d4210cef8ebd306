/**
 * @module cli/keys
 * Ctrl-C read as a key instead of received as a signal, so that the client
 * run through `npm run -s watch` or `npx liveorders-watch` exits with 0 as
 * promised, not 130.
 *
 * Why a signal cannot do it: npm runs the client through `sh -c`, and Ctrl-C
 * makes the terminal send SIGINT to every process of the foreground job: npm,
 * that shell, tsx and the client. The client and tsx exit with 0, but dash
 * (Debian's `sh`) catches SIGINT when run with `-c` and, once its child has
 * exited, re-raises it on itself whatever the child's status (bash would not:
 * it sees the child handled the signal). npm then sees its child killed by
 * SIGINT and kills itself with SIGINT "so that npm will exit with the same
 * status as the child", and the shell reports 128 + 2 = 130. Nothing the
 * client does after the signal changes that. With the terminal in raw mode the
 * terminal sends no signal at all: Ctrl-C is the byte 0x03 on stdin, which
 * only the client reads.
 *
 * Raw mode also turns off the terminal's Ctrl-Z and Ctrl-\, so those keys are
 * read here too. It is only set when stdin is the terminal and this process
 * is in the terminal's foreground job: a background job that changes the
 * terminal's mode is stopped (SIGTTOU). Where that cannot be told (no
 * /proc), the keys stay signals.
 */

import { readFileSync } from 'node:fs';

/** Bytes a terminal in raw mode sends for the keys that are otherwise signals. */
const KEY = { ctrlC: 0x03, ctrlBackslash: 0x1c, ctrlZ: 0x1a } as const;

/** What to do on the keys. */
export interface ControlKeyHandlers {
  /** Ctrl-C or Ctrl-\: stop. */
  interrupt(): void;
}

/**
 * Read Ctrl-C, Ctrl-\ and Ctrl-Z from the terminal as keys, when stdin is a
 * terminal this process may put in raw mode.
 * @param stdin the process's stdin
 * @param handlers what to do on Ctrl-C
 * @returns a function that gives the terminal back, or undefined when the keys stay signals
 */
export function captureControlKeys(stdin: NodeJS.ReadStream, handlers: ControlKeyHandlers): (() => void) | undefined {
  if (!stdin.isTTY || foregroundJob() !== true) return undefined;
  const raw = (on: boolean): void => {
    stdin.setRawMode(on);
  };
  const onData = (chunk: Buffer): void => {
    for (const byte of chunk) {
      if (byte === KEY.ctrlC || byte === KEY.ctrlBackslash) return handlers.interrupt();
      if (byte === KEY.ctrlZ) return suspendJob(() => raw(false));
    }
  };
  // Back in the foreground after `fg`: raw again. `bg` sends SIGCONT too, and there raw mode must wait.
  const onContinue = (): void => {
    if (foregroundJob() === true) raw(true);
  };
  raw(true);
  stdin.on('data', onData);
  process.on('SIGCONT', onContinue);
  return () => {
    stdin.off('data', onData);
    process.off('SIGCONT', onContinue);
    raw(false);
    stdin.pause();
  };
}

/**
 * What Ctrl-Z does when the terminal sends signals: stop every process of the
 * job (npm and its shell too, which `process.kill(process.pid)` would leave
 * running, so the shell would keep waiting for them and never get its prompt back).
 * @param leaveRawMode gives the terminal its usual mode back first, for the shell
 */
export function suspendJob(leaveRawMode: () => void): void {
  leaveRawMode();
  process.kill(0, 'SIGTSTP'); // 0: this process's group
}

/**
 * Whether this process is in its terminal's foreground job: its process group
 * (field 5 of /proc/self/stat) is the terminal's foreground group (field 8).
 * Undefined when that cannot be read (no procfs: macOS, Windows).
 */
export function foregroundJob(): boolean | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    // No procfs: the caller cannot tell and should leave the terminal's mode alone.
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const processGroup = fields[2];
  const foregroundGroup = fields[5];
  return processGroup !== undefined && processGroup === foregroundGroup;
}
