/**
 * @module scripts/test
 * `npm test`, after the type check (`tsc --noEmit -p .`, in package.json):
 * every `test/*.test.ts` (or the files given: `npm test -- test/cli.test.ts`)
 * with Node's test runner, one file at a time. In a terminal the results read as the spec reporter prints
 * them; piped (CI, a log file) they stay TAP, whose closing lines
 * (`# pass N`, `# fail N`) scripts read. Node's ExperimentalWarnings about
 * the features this command itself uses are not printed.
 */

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A path, not a URL's pathname: a checkout under a folder with a space in its name works too.
const PROJECT = fileURLToPath(new URL('..', import.meta.url));
/** Silences the warnings only (the runner's and every process a test starts). */
const QUIET = '--disable-warning=ExperimentalWarning';

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { cwd: PROJECT, stdio: 'inherit', env });
  if (result.error !== undefined) {
    process.stderr.write(`test: ${command}: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

const given = process.argv.slice(2);
const files = given.length > 0 ? given : readdirSync(`${PROJECT}test`).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/${f}`);
const reporter = process.stdout.isTTY === true ? 'spec' : 'tap';
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${QUIET}`.trim() };
process.exit(run(process.execPath, ['--import', 'tsx', QUIET, '--test', '--test-concurrency=1', `--test-reporter=${reporter}`, ...files], env));
