/**
 * @module cli/ws-client
 * The terminal client's entry point: reads the options, wires the process's
 * streams and signals to a {@link Watch}, and exits with its code.
 * See `--help`, and cli/watch.ts for what a run does.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, HELP, parseWatchArgs } from './args.ts';
import { NAME, Watch, type WatchIo } from './watch.ts';

/** Entry point: parse argv, run, exit with the code. */
export async function main(): Promise<void> {
  const parsed = parseWatchArgs(process.argv.slice(2), process.env, process.stdout.isTTY === true);
  if (!parsed.ok) {
    process.stderr.write(`${NAME}: ${parsed.error}\nRun with --help for usage.\n`);
    process.exit(EXIT.usage);
  }
  const options = parsed.value;
  if (options.help) {
    process.stdout.write(HELP);
    return;
  }
  // A closed pipe (`| head`) is a normal way to stop reading.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? EXIT.ok : EXIT.failure));
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const io: WatchIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
  const code = await new Watch(options, io).run(abort.signal);
  // Let buffered output drain before exiting.
  process.stdout.write('', () => process.exit(code));
}

/** Run {@link main}, turning a crash into exit code 1 with the stack on stderr. */
export function runMain(): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${NAME}: unexpected failure: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.failure);
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain();
