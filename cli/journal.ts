/**
 * @module cli/journal
 * `npm run journal -- check|repair [--dir DIR]`: report what a start would
 * find in the journal's data folder (`DATA_DIR`, default ./data), or cut
 * the tails a crash tore, after printing them. Exit codes: 0 the folder
 * starts, 1 a start refuses it (nothing was changed), 2 bad usage.
 */

import { resolve } from 'node:path';
import { StorageStartError } from '../src/store/journal/files.ts';
import { CHECK_EXIT, checkFolder, type CheckMode } from '../src/store/journal/check.ts';

const USAGE = `usage: npm run journal -- check|repair [--dir DIR]

  check    report what a start would find in the data folder; changes nothing
  repair   cut the tails a crash tore (never anything else), after printing them;
           the folder must not be in use

DIR defaults to DATA_DIR, else ./data. Exit codes: 0 the folder starts, 1 a start refuses it, 2 bad usage.`;

/** Exit code for bad usage. */
const EXIT_USAGE = 2;

function parse(args: readonly string[], env: NodeJS.ProcessEnv): { mode: CheckMode; dir: string } | undefined {
  const [mode, ...rest] = args;
  if (mode !== 'check' && mode !== 'repair') return undefined;
  let dir = env.DATA_DIR ?? './data';
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--dir' && rest[i + 1] !== undefined) dir = rest[++i]!;
    else return undefined;
  }
  return { mode, dir: resolve(dir) };
}

const options = parse(process.argv.slice(2), process.env);
if (options === undefined) {
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = EXIT_USAGE;
} else {
  try {
    const result = await checkFolder(options.dir, options.mode);
    process.stdout.write(`${result.lines.join('\n')}\n`);
    process.exitCode = result.exitCode;
  } catch (error) {
    if (!(error instanceof StorageStartError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = CHECK_EXIT.refused;
  }
}
