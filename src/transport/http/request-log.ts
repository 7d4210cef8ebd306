/**
 * @module transport/http/request-log
 * Each HTTP request's id (`X-Request-Id`: the client's or a proxy's when it
 * is sane, else made here), and one `info` line per request: method, path
 * (no query, tracking tokens redacted), status, duration and that id. The
 * id is echoed in the answer's header and in problem bodies (io.ts); the
 * line is not prepared when `info` is off (`LOG_LEVEL=warn`), and a logged
 * request costs a start time on the response, one shared listener and the
 * line itself. The same listener records the request's metrics
 * (observe/http-metrics.ts).
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpMetrics } from '../../observe/http-metrics.ts';
import type { Logger } from '../../support/logger.ts';

/** Where a request's start time is kept: a property of its response, so no map or closure per request. */
const STARTED = Symbol('liveorders.requestStarted');
const REQUEST_ID = Symbol('liveorders.requestId');

interface LoggedResponse extends ServerResponse {
  [STARTED]?: number;
  [REQUEST_ID]?: string;
}

/** The header that carries a request's id, both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An `X-Request-Id` from a client or proxy is kept when it is this plain (bounded, nothing to escape); anything else gets our own id. */
const FOREIGN_ID = /^[\w.:-]{1,64}$/;

/**
 * The id of the request `res` answers, when the server tracked it (every
 * request through `createServer` is).
 * @param res the response
 */
export function requestIdOf(res: ServerResponse): string | undefined {
  return (res as LoggedResponse)[REQUEST_ID];
}

/** Paths whose last segment is a tracking token, a credential: never written to a log. */
const TOKEN_PATH = /^(\/(?:api\/)?track\/)[^/]+/;

/**
 * The path as logged: without the query (it may carry anything) and with a
 * tracking token replaced.
 * @param url the request target as received
 */
export function loggedPath(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  // Long garbage targets are cut: one line per request stays one short line.
  return path.replace(TOKEN_PATH, '$1[token]').slice(0, 200);
}

/**
 * The request's id as a header object, for answers written with
 * `writeHead` (a stream, a 304) rather than through io.ts.
 * @param res the response
 */
export function requestIdField(res: ServerResponse): Record<string, string> {
  const id = requestIdOf(res);
  return id === undefined ? {} : { [REQUEST_ID_HEADER]: id };
}

/** Logs each request, and records its metrics, once its response is done. */
export class RequestLog {
  /** Whether anything (the log line, the metrics) waits for the response to close. */
  readonly #enabled: boolean;
  /** One listener shared by every response ('close' fires once, finished or not); `this` is the response. */
  readonly #closed: (this: LoggedResponse) => void;
  /** Tells this process's ids from another instance's (or an earlier run's) in merged logs. */
  readonly #prefix = randomBytes(3).toString('hex');
  #next = 0;

  /**
   * @param logger where lines go; requests are logged only when it writes `info`
   * @param metrics where each request's route, status class and duration are recorded
   */
  constructor(logger: Logger, metrics?: HttpMetrics) {
    const logging = logger.enabled?.('info') ?? true;
    this.#enabled = logging || metrics !== undefined;
    this.#closed = function (this: LoggedResponse): void {
      const ms = performance.now() - (this[STARTED] ?? 0);
      metrics?.observe(this, ms / 1000);
      if (!logging) return;
      const finished = this.writableFinished;
      logger.info('request', {
        id: this[REQUEST_ID],
        method: this.req.method,
        path: loggedPath(this.req.url),
        status: finished ? this.statusCode : 0,
        ms: Math.round(ms * 10) / 10,
        ...(finished ? {} : { aborted: true }),
      });
    };
  }

  /**
   * Give a request its id and note its start; its line is written (and its
   * metrics recorded) when the response closes.
   * @param req the request
   * @param res its response
   * @returns the request's id
   */
  track(req: IncomingMessage, res: ServerResponse): string {
    const logged = res as LoggedResponse;
    const foreign = req.headers['x-request-id'];
    const id = typeof foreign === 'string' && FOREIGN_ID.test(foreign) ? foreign : `${this.#prefix}-${(++this.#next).toString(36)}`;
    logged[REQUEST_ID] = id;
    if (!this.#enabled) return id;
    logged[STARTED] = performance.now();
    res.on('close', this.#closed);
    return id;
  }
}
