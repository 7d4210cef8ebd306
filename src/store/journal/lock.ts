/**
 * @module store/journal/lock
 * The data folder's lock: one running instance per folder, or two would
 * interleave their writes. The decision is the kernel's: an exclusive
 * advisory lock (flock) on the folder's LOCK file, held for the process's
 * life by a small child (util-linux `flock(1)`, as Node has no binding). The
 * kernel drops it when its holder dies, however it dies, so a crash never
 * leaves a lock behind and two processes can never both hold it. What the
 * LOCK file says (pid, host, start) is only for people and error messages.
 *
 * The child is `flock` running a shell that waits for the end of its stdin,
 * a pipe from this process: a clean close ends the pipe; a `kill -9` of this
 * process closes it too, and the child exits a moment later; a `kill -9` of
 * the whole process group kills the child at once. It ignores SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT (a Ctrl-C reaches the whole group; a
 * supervisor may signal every process of the service), so the lock stays
 * until this process has finished shutting down. It never keeps the event
 * loop alive.
 *
 * Without `flock` on PATH (or where the kernel refuses the lock, as on some
 * network file systems) the folder falls back, with a warning, to a lock file
 * created with O_EXCL: a best effort that trusts the pid in the file, which a
 * crash can leave behind and two starts at once can both take over.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../support/logger.ts';
import { StorageStartError } from './files.ts';

/** The lock file: locked by the kernel for the holder; its content names the holder. */
export const LOCK_FILE = 'LOCK';

/**
 * How long a start waits for a lock that is held: after a `kill -9` of only
 * the previous process, its lock's child notices the closed pipe a moment
 * later, and a supervisor's immediate restart must not be refused for that.
 */
export const DEFAULT_LOCK_WAIT_MS = 2000;

/** Between two tries while waiting for the lock. */
const RETRY_INTERVAL_MS = 50;
/** How long a release waits for the child to exit before killing it. */
const RELEASE_WAIT_MS = 2000;
/** flock(1)'s exit code when another process holds the lock (EX_TEMPFAIL). */
const HELD_ELSEWHERE_EXIT_CODE = 75;
/** A shell's exit code for a command it cannot find. */
const NOT_FOUND_EXIT_CODE = 127;
/** What the child prints once it holds the lock. */
const HELD_LINE = 'locked\n';

/**
 * The child: ignore the signals a terminal or a supervisor sends to every
 * process of the service (ignored signals stay ignored across exec), then
 * let flock take the lock without waiting and run a shell that says so and
 * waits for the end of stdin. `$1` is the lock file's path.
 */
const HOLDER_SCRIPT =
  `trap '' HUP INT QUIT TERM; ` +
  `exec flock --exclusive --nonblock --conflict-exit-code ${HELD_ELSEWHERE_EXIT_CODE} "$1" ` +
  `/bin/sh -c 'echo ${HELD_LINE.trim()}; while read -r _; do :; done'`;

/** A held lock: release it when the journal closes. */
export interface FolderLock {
  /** `kernel`: flock, released by the kernel when this process dies; `file`: the O_EXCL fallback. */
  readonly kind: 'kernel' | 'file';
  release(): Promise<void>;
}

/** Options for {@link lockFolder}. */
export interface LockOptions {
  /** Told when the fallback is used, and when the lock's child is lost. */
  readonly logger: Logger;
  /** How long to wait for a held lock before refusing. @default {@link DEFAULT_LOCK_WAIT_MS} */
  readonly waitMs?: number;
}

/** Lock files this process holds: a second open in one process gets a message of its own. */
const heldHere = new Set<string>();

/**
 * Take the folder for this process, or refuse with a message naming the
 * folder (and, from the LOCK file, the process that holds it).
 * @param dir the data folder (it exists)
 * @param options logger and wait
 */
export async function lockFolder(dir: string, options: LockOptions): Promise<FolderLock> {
  const path = join(dir, LOCK_FILE);
  const key = resolve(path);
  if (heldHere.has(key)) throw new StorageStartError(`the data folder ${dir} is already open in this process; close the other storage first`);
  heldHere.add(key);
  try {
    const lock = await takeLock(dir, path, options);
    return {
      kind: lock.kind,
      release: async () => {
        await lock.release();
        heldHere.delete(key);
      },
    };
  } catch (error) {
    heldHere.delete(key);
    throw error;
  }
}

async function takeLock(dir: string, path: string, options: LockOptions): Promise<FolderLock> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  for (;;) {
    const attempt = await tryKernelLock(path);
    switch (attempt.outcome) {
      case 'held':
        await writeFile(path, holderLine()).catch(() => undefined); // for people only: the kernel's lock decides
        return kernelLock(attempt.child, dir, options.logger);
      case 'unavailable':
        options.logger.warn('the data folder cannot be locked by the kernel; using a lock file instead, which a crash can leave behind and two starts at the same moment can both take over', {
          dir,
          reason: attempt.reason,
        });
        return fileLock(dir, path);
      case 'held-elsewhere':
        if (Date.now() >= deadline) throw await inUse(dir, path);
        await new Promise((wake) => setTimeout(wake, RETRY_INTERVAL_MS));
    }
  }
}

type Attempt = { outcome: 'held'; child: ChildProcess } | { outcome: 'held-elsewhere' } | { outcome: 'unavailable'; reason: string };

/**
 * One try: start the child and learn whether it holds the lock (it prints a
 * line) or not (it exits: 75 when another process holds it, 127 without
 * flock, anything else when the kernel or the file refused).
 */
function tryKernelLock(path: string): Promise<Attempt> {
  return new Promise((settle) => {
    // Absolute, so that a folder named like an option (`-data`) is not read as one by flock.
    const child = spawn('/bin/sh', ['-c', HOLDER_SCRIPT, 'liveorders-lock', resolve(path)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (attempt: Attempt): void => {
      if (settled) return;
      settled = true;
      settle(attempt);
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(HELD_LINE)) done({ outcome: 'held', child });
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => done({ outcome: 'unavailable', reason: `cannot start /bin/sh: ${error.message}` }));
    child.once('close', (code, signal) => {
      if (code === HELD_ELSEWHERE_EXIT_CODE) return done({ outcome: 'held-elsewhere' });
      const said = stderr.trim();
      if (code === NOT_FOUND_EXIT_CODE) return done({ outcome: 'unavailable', reason: `flock (util-linux) is not on PATH${said === '' ? '' : `: ${said}`}` });
      done({ outcome: 'unavailable', reason: `flock ended with ${code ?? signal}${said === '' ? '' : `: ${said}`}` });
    });
  });
}

/** The lock held by `child`: it lives as long as the child, which lives as long as its stdin pipe is open. */
function kernelLock(child: ChildProcess, dir: string, logger: Logger): FolderLock {
  const stdin = child.stdin as Socket;
  // Nothing more is read from the child: its output pipes go, and neither it nor its stdin keeps the process alive.
  child.stdout!.destroy();
  child.stderr!.destroy();
  stdin.on('error', () => undefined); // EPIPE if the child is gone: reported below, by 'close'
  stdin.unref();
  child.unref();
  let releasing = false;
  const closed = new Promise<void>((resolveClosed) =>
    child.once('close', (code, signal) => {
      if (!releasing) {
        logger.error('the process holding the data folder\'s lock ended: another instance could now open the folder too; restart this one', { dir, pid: child.pid, code, signal });
      }
      resolveClosed();
    }),
  );
  return {
    kind: 'kernel',
    release: async () => {
      if (releasing) return closed;
      releasing = true;
      child.ref(); // a release is awaited: the exit is the moment the lock is free
      const killer = setTimeout(() => child.kill('SIGKILL'), RELEASE_WAIT_MS);
      stdin.end();
      await closed;
      clearTimeout(killer);
    },
  };
}

/** What the LOCK file says: who holds (or last held) the folder. */
function holderLine(): string {
  return `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`;
}

/** The refusal when another live process holds the lock, naming it when the LOCK file does. */
async function inUse(dir: string, path: string): Promise<StorageStartError> {
  const holder = await readLockHolder(path);
  const who = holder === undefined ? 'another process' : `process ${holder.pid} on host ${holder.host} (since ${holder.since})`;
  return new StorageStartError(`the data folder ${dir} is in use by ${who}, which holds the lock on ${path}; stop it first, or set DATA_DIR to another folder`);
}

async function readLockHolder(path: string): Promise<{ pid: number; host: string; since: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown; since?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host, since: String(parsed.since) };
  } catch {
    // Empty (just created by the holder), or cut short by a crash: no name to give.
  }
  return undefined;
}

/**
 * The fallback without flock: the LOCK file created with O_EXCL, removed on
 * release. A LOCK naming a process that no longer runs on this host is taken
 * over; one naming another host is refused (it may still run there).
 */
async function fileLock(dir: string, path: string): Promise<FolderLock> {
  const content = holderLine();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      await handle.writeFile(content);
      await handle.sync();
      await handle.close();
      return { kind: 'file', release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLockHolder(path);
    if (holder !== undefined && holder.host === hostname() && processIsRunning(holder.pid) && holder.pid !== process.pid) {
      throw new StorageStartError(`the data folder ${dir} is in use by process ${holder.pid} (since ${holder.since}); stop it first, or set DATA_DIR to another folder`);
    }
    if (holder !== undefined && holder.host !== hostname()) {
      throw new StorageStartError(`the data folder ${dir} is locked by a process on host ${holder.host}; if that host no longer runs liveorders on it, remove ${path}`);
    }
    // Left by a process that is gone: take it over.
    await unlink(path).catch(() => undefined);
  }
  throw new StorageStartError(`could not lock the data folder ${dir}; another instance may be starting there`);
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
