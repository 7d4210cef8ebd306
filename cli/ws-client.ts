/**
 * @module cli/ws-client
 * The terminal client's entry point: reads the options, wires the process's
 * streams, signals and keys to a {@link Watch}, and exits with its code.
 * See `--help`, and cli/watch.ts for what a run does.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, HELP, parseWatchArgs } from './args.ts';
import { readMessages, type InteractiveInput } from './interactive.ts';
import { captureControlKeys, suspendJob } from './keys.ts';
import { flagsNpmKept, npmFlagsWarning } from './npm-flags.ts';
import { resolveOrderRef } from './order-ref.ts';
import { NAME, Watch, type WatchIo } from './watch.ts';

/** The width assumed for a terminal that does not report one (and `COLUMNS` is not set). */
const FALLBACK_COLUMNS = 80;

/**
 * A terminal's width now: what it reports (Node updates it on every resize),
 * else `COLUMNS`, else {@link FALLBACK_COLUMNS}. A pseudo-terminal nobody
 * sized reports 0.
 * @param stream a TTY stream
 * @param env the environment
 */
function terminalWidth(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): number {
  if (stream.columns > 0) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : FALLBACK_COLUMNS;
}

/** Entry point: parse argv, run, exit with the code. */
export async function main(): Promise<void> {
  const stdoutIsTty = process.stdout.isTTY === true;
  const parsed = parseWatchArgs(process.argv.slice(2), process.env, stdoutIsTty);
  if (!parsed.ok) {
    process.stderr.write(`${NAME}: ${parsed.error}\nRun with --help for usage.\n`);
    process.exit(EXIT.usage);
  }
  let options = parsed.value;
  if (options.help) {
    process.stdout.write(HELP);
    return;
  }
  const npmWarning = npmFlagsWarning(flagsNpmKept(process.env, process.argv.slice(2)));
  if (npmWarning !== undefined) process.stderr.write(`${NAME}: ${npmWarning}\n`);
  if (options.orderId !== undefined) {
    // A short id (the table's last 8 digits) is looked up once, before connecting.
    const resolved = await resolveOrderRef(options.url, options.orderId, options.token);
    if (!resolved.ok) {
      process.stderr.write(`${NAME}: ${resolved.message}\n`);
      process.exit(resolved.code);
    }
    options = { ...options, orderId: resolved.orderId };
  }
  // A closed pipe (`| head`) is a normal way to stop reading.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? EXIT.ok : EXIT.failure));
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  // `on`, not `once`: under `tsx` (npm run watch) a second SIGINT can follow the first (npm forwards
  // one to tsx, which relays it), and tsx's preflight exits with 130 when no SIGINT listener is left.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  let input: InteractiveInput | undefined;
  const io: WatchIo = {
    out: (text) => (input === undefined ? process.stdout.write(`${text}\n`) : input.write(process.stdout, text)),
    err: (text) => (input === undefined ? process.stderr.write(`${text}\n`) : input.write(process.stderr, text)),
    width: () => options.width ?? (stdoutIsTty ? terminalWidth(process.stdout, process.env) : undefined),
  };
  const watch = new Watch(options, io);
  let releaseKeys: (() => void) | undefined;
  if (options.interactive) {
    input = readMessages(process.stdin, stdoutIsTty ? process.stdout : process.stderr, {
      message: (message) => watch.send(message),
      invalid: (reason) => io.err(`${NAME}: not sent: ${reason}`),
      end: () => watch.endInput(),
      interrupt: stop,
      suspend: suspendJob,
    });
  } else if (stdoutIsTty) {
    // Only when watching in a terminal: piped into `less`, the keyboard is the pager's, and a Ctrl-C
    // there ends the whole pipeline, whose status is the last command's anyway.
    releaseKeys = captureControlKeys(process.stdin, { interrupt: stop });
  }
  const code = await watch.run(abort.signal);
  input?.close();
  releaseKeys?.();
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
