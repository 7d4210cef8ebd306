/**
 * External programs some suites need (a Chromium, `redis-server`, a mount
 * namespace, a pseudo-terminal). Where one is missing a suite is skipped
 * with a line saying how to enable it; with `LIVEORDERS_REQUIRE_ALL=1`
 * (which `.ci/run` sets) a missing one fails instead, so CI always runs
 * everything.
 */

import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';

/** Set by CI: a missing requirement is a failure, not a skip. */
export const REQUIRE_ALL = process.env.LIVEORDERS_REQUIRE_ALL === '1';

/** Programs CI could not install and says so (`LIVEORDERS_MAY_SKIP=nginx`): skipped even under {@link REQUIRE_ALL}. */
const MAY_SKIP = new Set((process.env.LIVEORDERS_MAY_SKIP ?? '').split(',').filter((name) => name !== ''));

/** Whether a requirement is met: `skip` is false, or the reason to give. */
export interface Requirement {
  readonly skip: false | string;
}

/**
 * Check that `command args` runs and succeeds.
 * @param command the program
 * @param args arguments for a harmless probe (e.g. `--version`)
 * @param what what it provides and how to get it, for the skip line
 */
export function requirement(command: string, args: readonly string[], what: string): Requirement {
  const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  if (probe.error === undefined && probe.status === 0) return { skip: false };
  const reason = `skipped: needs ${what}; \`${[command, ...args].join(' ')}\` ${probe.error === undefined ? `exited with ${probe.status}` : `failed (${probe.error.message})`}`;
  if (REQUIRE_ALL && !MAY_SKIP.has(basename(command))) throw new Error(`${reason} (LIVEORDERS_REQUIRE_ALL=1: CI runs every suite)`);
  process.stderr.write(`${reason}\n`);
  return { skip: reason };
}
