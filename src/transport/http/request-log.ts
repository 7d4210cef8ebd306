/**
 * @module transport/http/request-log
 * One `info` line per HTTP request: method, path (no query, tracking tokens
 * redacted), status, duration and a request id. Nothing is prepared when
 * `info` is off (`LOG_LEVEL=warn`), and a logged request costs a start time
 * on the response, one shared listener and the line itself. The same
 * listener records the request's metrics (observe/http-metrics.ts).
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

/** An `X-Request-Id` from a proxy is kept when it is this plain; anything else gets our own id. */
const FOREIGN_ID = /^[\w.:-]{1,64}$/;

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

/** Logs each request, and records its metrics, once its response is done. */
export class RequestLog {
  readonly #enabled: boolean;
  readonly #logging: boolean;
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
    const logging = (this.#logging = logger.enabled?.('info') ?? true);
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
   * Note a request's start; its line is written when the response closes.
   * @param req the request
   * @param res its response
   */
  track(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#enabled) return;
    const logged = res as LoggedResponse;
    logged[STARTED] = performance.now();
    res.on('close', this.#closed);
    if (!this.#logging) return;
    const foreign = req.headers['x-request-id'];
    logged[REQUEST_ID] = typeof foreign === 'string' && FOREIGN_ID.test(foreign) ? foreign : `${this.#prefix}-${(++this.#next).toString(36)}`;
  }
}
