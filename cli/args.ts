/**
 * @module cli/args
 * Command-line options of the terminal client, their validation and `--help`.
 */

import { parseArgs } from 'node:util';
import {
  MAX_BEARER_LENGTH,
  ORDER_STATUSES,
  SNAPSHOT_LIMITS,
  isIdSuffix,
  isOrderId,
  isOrderStatus,
  isTrackingToken,
  parseClientMessage,
  type ClientMessage,
  type OrderStatus,
  type Result,
} from '../src/protocol.ts';

/** Exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unreachable: 3,
  timeout: 4,
  rejected: 5,
  serverError: 6,
} as const;

/** Where the client connects when `--url` and `LIVEORDERS_URL` are absent. */
export const DEFAULT_URL = 'ws://localhost:8000/ws';

/** Validated options. */
export interface WatchOptions {
  readonly url: URL;
  readonly json: boolean;
  /** `--order`: a whole id, or 8+ trailing hex digits that the entry point resolves to one (cli/order-ref.ts). */
  readonly orderId?: string;
  readonly statuses?: readonly OrderStatus[];
  readonly limit?: number;
  readonly once: boolean;
  readonly count?: number;
  readonly until?: OrderStatus;
  readonly timeoutSeconds?: number;
  readonly send?: ClientMessage;
  /** Seconds between heartbeat pings; a server silent for that long after a ping is presumed gone. */
  readonly heartbeatSeconds: number;
  /** Access token for a server with tokens on (sent as Authorization: Bearer). */
  readonly token?: string;
  /** A shell command that prints a fresh access token (an identity provider's): run at start without --token, before the token expires, and after the server closed at expiry. */
  readonly tokenCommand?: string;
  /** A customer tracking token: watch that one order. */
  readonly track?: string;
  readonly color: boolean;
  /** Cells per line for human output (`--width`); without it a terminal's width, and no limit on a pipe. */
  readonly width?: number;
  /** Read client messages from stdin, one JSON object per line, and print the answers as they come. */
  readonly interactive: boolean;
  readonly help: boolean;
}

/** The narrowest `--width` accepted, and the widest: beyond it no line gets shorter. */
export const WIDTH_LIMITS = { min: 20, max: 1000 } as const;

/** The text of `--help`, wrapped to fit 80 columns. */
export const HELP = `liveorders-watch: watch the liveorders event stream, or script against it.

Usage:
  npm run -s watch -- [options]
  npx liveorders-watch [options]          (inside this project)

Options:
  --url URL        WebSocket URL (default ${DEFAULT_URL},
                   or $LIVEORDERS_URL)
  --json           print every message exactly as received, one JSON per line
  --order ID       watch one order: its whole id, or its last 8+ hex digits
                   (the short id shown in tables), which must be unique
  --status LIST    watch orders in these statuses, comma-separated:
                   ${ORDER_STATUSES.join(',')}
  --limit N        orders in the first snapshot (1-${SNAPSHOT_LIMITS.max}, default ${SNAPSHOT_LIMITS.default})
  --once           print the snapshot and exit
  --count N        exit after N events
  --until STATUS   with --order: exit once that order has STATUS (already, or
                   when it changes)
  --timeout S      give up after S seconds (exit 4): the time allowed for
                   --once, --count, --until or --send to finish; without those,
                   the longest silence allowed between events
  --send JSON      send one client message (e.g. createOrder, updateStatus),
                   print the answer and exit; for a new order also its tracking
                   token and customer page
  -i, --interactive
                   send client messages typed (or piped) one JSON per line and
                   print the answers and the events as they come; the end of
                   input (Ctrl-D) exits with 0, or 6 if an answer was an error
  --width N        fit every line in N columns (${WIDTH_LIMITS.min}-${WIDTH_LIMITS.max}). By default lines fit
                   the terminal, and are whole (with whole ids) when piped
  --token TOKEN    access token, when the server has tokens on
                   (or $LIVEORDERS_TOKEN)
  --token-command CMD
                   a shell command that prints a fresh access token (e.g. from
                   your identity provider); run when there is no --token, before
                   the token expires, and when the server closes at its expiry
  --track TOKEN    watch the one order a customer tracking token opens
  --heartbeat S    ping the server every S seconds and reconnect when it stops
                   answering (default 15)
  --no-color       no colours (also when NO_COLOR is set or stdout is not a
                   terminal)
  -h, --help       show this help

Output: the snapshot as a table, then one line per event: time, seq, event,
order id, customer, status change. In a terminal each line fits its width: ids
shorten to their last 8 digits and names narrow. The client reconnects by
itself with backoff (said on stderr) and resumes from the last seq it saw, so
it neither repeats nor misses an event.

Exit codes: 0 done (or Ctrl-C), 1 unexpected failure, 2 bad usage, 3 server not
reachable, 4 timed out, 5 connection refused by the server (e.g. 401: no or bad
--token, or the token revoked, or expired without --token-command, while
watching), 6 the server answered with an error.

Examples:
  npm run -s watch                                   # watch everything
  npm run -s watch -- --status pending,processing    # only open orders
  npm run -s watch -- --json | jq -c '.events[]?'    # events for scripts
  npm run -s watch -- --order ID --until delivered --timeout 600 && echo ok
  npm run -s watch -- --send \\
    '{"type":"createOrder","order":{"customerName":"Ada","items":["laptop"]}}'
  npm run -s watch -- --send \\
    '{"type":"updateStatus","orderId":"ID","status":"shipped"}'
  npm run -s watch -- -i           # then type {"type":"ping"} and press Enter
`;

/**
 * `--track TOKEN` with a token that starts with `-` (one in 64 do) would read
 * to parseArgs as a missing value followed by an option; written as
 * `--track=TOKEN` it is unambiguous, so that is what it becomes.
 * @param argv the arguments
 */
function joinDashLeadingTokens(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--track' && next !== undefined && next.startsWith('-') && isTrackingToken(next)) {
      args.push(`--track=${next}`);
      i++;
    } else {
      args.push(argv[i]!);
    }
  }
  return args;
}

/**
 * Parse and validate argv (without the node and script paths).
 * @param argv the arguments
 * @param env the environment (`LIVEORDERS_URL`, `NO_COLOR`)
 * @param isTty whether stdout is a terminal
 */
export function parseWatchArgs(argv: readonly string[], env: NodeJS.ProcessEnv, isTty: boolean): Result<WatchOptions, string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinDashLeadingTokens(argv),
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        json: { type: 'boolean', default: false },
        order: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        once: { type: 'boolean', default: false },
        count: { type: 'string' },
        until: { type: 'string' },
        timeout: { type: 'string' },
        send: { type: 'string' },
        heartbeat: { type: 'string', default: '15' },
        token: { type: 'string' },
        'token-command': { type: 'string' },
        track: { type: 'string' },
        'no-color': { type: 'boolean', default: false },
        width: { type: 'string' },
        interactive: { type: 'boolean', short: 'i', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    // parseArgs throws TypeErrors with a readable message for unknown or malformed options.
    return { ok: false, error: (error as Error).message };
  }
  const fail = (message: string): Result<WatchOptions, string> => ({ ok: false, error: message });

  const rawUrl = values.url ?? env.LIVEORDERS_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    // new URL throws TypeError for anything that is not an absolute URL.
    return fail(`--url: "${rawUrl}" is not a URL (expected e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return fail(`--url: "${rawUrl}" must start with ws:// or wss://`);

  if (values.order !== undefined && !isOrderId(values.order) && !isIdSuffix(values.order)) {
    return fail(`--order: "${values.order}" is not an order id (a lowercase UUID) or its last 8 or more hex digits`);
  }
  let statuses: OrderStatus[] | undefined;
  if (values.status !== undefined) {
    const list = values.status.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = list.filter((s) => !isOrderStatus(s));
    if (list.length === 0 || unknown.length > 0) return fail(`--status: expected some of ${ORDER_STATUSES.join(',')}, got "${values.status}"`);
    statuses = ORDER_STATUSES.filter((s) => list.includes(s));
  }
  const limit = positiveInteger(values.limit, SNAPSHOT_LIMITS.max);
  if (limit === null) return fail(`--limit: expected an integer from 1 to ${SNAPSHOT_LIMITS.max}`);
  const count = positiveInteger(values.count, Number.MAX_SAFE_INTEGER);
  if (count === null) return fail('--count: expected a whole number >= 1');
  let until: OrderStatus | undefined;
  if (values.until !== undefined) {
    if (!isOrderStatus(values.until)) return fail(`--until: expected one of ${ORDER_STATUSES.join(', ')}`);
    if (values.order === undefined) return fail('--until needs --order ID (the order to wait for)');
    until = values.until;
  }
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout) || !(timeoutSeconds > 0)) return fail('--timeout: expected a number of seconds > 0');
  }
  const token = values.token ?? (env.LIVEORDERS_TOKEN === '' ? undefined : env.LIVEORDERS_TOKEN);
  if (token !== undefined && !isBearerToken(token)) return fail('--token: expected visible ASCII without spaces');
  const tokenCommand = values['token-command'];
  if (tokenCommand !== undefined && tokenCommand.trim() === '') return fail('--token-command: expected a command that prints a token');
  if (values.track !== undefined && !isTrackingToken(values.track)) return fail('--track: expected the 22-character tracking token');
  const heartbeatSeconds = Number(values.heartbeat);
  if (!/^\d+(\.\d+)?$/.test(values.heartbeat) || !(heartbeatSeconds >= 0.1)) return fail('--heartbeat: expected a number of seconds >= 0.1');
  let send: ClientMessage | undefined;
  if (values.send !== undefined) {
    const parsed = parseClientMessage(values.send);
    if (!parsed.ok) {
      const fields = (parsed.error.details.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
      return fail(`--send: ${parsed.error.message}${fields === '' ? '' : ` (${fields})`}`);
    }
    send = parsed.value;
  }
  if (values.interactive && (send !== undefined || values.once)) return fail(`--interactive cannot be combined with ${send === undefined ? '--once' : '--send'}`);
  let width: number | undefined;
  if (values.width !== undefined) {
    width = Number(values.width);
    if (!/^\d{1,4}$/.test(values.width) || width < WIDTH_LIMITS.min || width > WIDTH_LIMITS.max) return fail(`--width: expected a number of columns from ${WIDTH_LIMITS.min} to ${WIDTH_LIMITS.max}`);
  }

  return {
    ok: true,
    value: {
      url,
      json: values.json,
      ...(values.order === undefined ? {} : { orderId: values.order }),
      ...(statuses === undefined ? {} : { statuses }),
      ...(limit === undefined ? {} : { limit }),
      once: values.once,
      ...(count === undefined ? {} : { count }),
      ...(until === undefined ? {} : { until }),
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      ...(send === undefined ? {} : { send }),
      heartbeatSeconds,
      ...(token === undefined ? {} : { token }),
      ...(tokenCommand === undefined ? {} : { tokenCommand }),
      ...(values.track === undefined ? {} : { track: values.track }),
      color: isTty && !values['no-color'] && (env.NO_COLOR === undefined || env.NO_COLOR === ''),
      ...(width === undefined ? {} : { width }),
      interactive: values.interactive,
      help: values.help,
    },
  };
}

/**
 * Whether `text` can be sent as a bearer token: visible ASCII without spaces,
 * up to the length the server accepts.
 * @param text a token as given
 */
export function isBearerToken(text: string): boolean {
  return text.length >= 1 && text.length <= MAX_BEARER_LENGTH && /^[\x21-\x7e]+$/.test(text);
}

/** `undefined` when absent, `null` when invalid. */
function positiveInteger(raw: string | undefined, max: number): number | undefined | null {
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : null;
}
