/**
 * Pinning for the benchmarks: where `taskset` exists and there are two
 * cores or more, the servers under test run on core 0 and the load
 * generator (this process and the client processes it forks) on core 1,
 * so they do not steal each other's time.
 */

import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/** The core servers under test run on. */
export const SERVER_CORE = 0;

/** The core the load generator runs on. */
export const LOAD_CORE = 1;

/** Whether pinning is possible here. */
export const PINNING = cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;

/**
 * Pin every thread of a process to one core; a no-op where pinning is not possible.
 * @param pid the process
 * @param core the core
 */
export function pin(pid: number | undefined, core: number): void {
  if (!PINNING || pid === undefined) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)]);
  if (result.status !== 0) throw new Error(`taskset could not pin ${pid} to core ${core}: ${result.stderr.toString()}`);
}
