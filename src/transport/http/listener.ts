/**
 * @module transport/http/listener
 * The HTTP server around the API and the page: its timeouts, its answers
 * to malformed HTTP, the routing of a request to the API or the page, and
 * the count of requests in flight that shutdown waits for, and the log
 * line of each request.
 */

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolError, toWireError } from '../../protocol.ts';
import { hostNotAllowed } from '../../security/access.ts';
import type { HttpMetrics } from '../../observe/http-metrics.ts';
import type { Logger } from '../../support/logger.ts';
import type { ApiContext } from './context.ts';
import { InFlightRequests } from './in-flight.ts';
import { sendProblem, writeRawResponse } from './io.ts';
import type { PageHandler } from './page.ts';
import { RequestLog, loggedPath, requestIdOf } from './request-log.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';
import { handleApiRequest, isApiPath } from './router.ts';

/** HTTP server timeouts, in milliseconds: one slow peer must not hold a socket forever. */
const HTTP_TIMEOUTS = { headers: 10_000, request: 30_000, keepAlive: 5_000 } as const;

/** An HTTP server and the requests it has in flight. */
export interface HttpListener {
  readonly http: Server;
  readonly inFlight: InFlightRequests;
}

/** Takes an upgrade request whose target parsed (the WebSocket endpoint). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: RequestTarget) => void;

/**
 * Build the HTTP server (not listening yet).
 * @param api what the API handlers work with
 * @param page the page's handler, when the page is served
 * @param onUpgrade takes upgrade requests
 * @param logger where failures and the request log go
 * @param metrics where each request's route, status class and duration are recorded
 */
export function createHttpListener(api: ApiContext, page: PageHandler | undefined, onUpgrade: UpgradeHandler, logger: Logger, metrics?: HttpMetrics): HttpListener {
  const inFlight = new InFlightRequests();
  const requestLog = new RequestLog(logger, metrics);
  const handlerFailed = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    logger.error('request handler failed', { error, id: requestIdOf(res), method: req.method, path: loggedPath(req.url) });
    sendProblem(res, toWireError(error));
  };
  const http = createHttpServer((req, res) => {
    inFlight.track(res);
    requestLog.track(req, res);
    try {
      handleRequest(api, page, req, res)?.catch((error: unknown) => handlerFailed(req, res, error));
    } catch (error) {
      handlerFailed(req, res, error);
    }
  });
  http.headersTimeout = HTTP_TIMEOUTS.headers;
  http.requestTimeout = HTTP_TIMEOUTS.request;
  http.keepAliveTimeout = HTTP_TIMEOUTS.keepAlive;
  http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    logger.debug('bad HTTP from client', { error: error.message, code: error.code });
    if (error.code === 'HPE_HEADER_OVERFLOW') return writeRawResponse(socket, 431, 'Request Header Fields Too Large');
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return writeRawResponse(socket, 408, 'Request Timeout');
    writeRawResponse(socket, 400, 'Bad Request');
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = parseRequestTarget(req.url);
    if (url === undefined) return writeRawResponse(socket, 400, 'Bad Request');
    onUpgrade(req, socket, head, url);
  });
  return { http, inFlight };
}

/**
 * Start listening.
 * @param http the server
 * @param port the port (0: any free one)
 * @param host the address
 * @returns the bound address
 */
export function listenOn(http: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve(http.address() as AddressInfo);
    });
  });
}

/**
 * Route a request to the API or the page. Not `async`, nor is
 * handleApiRequest: an async layer wraps the handler's promise in one more,
 * resolved through two extra microtasks. Each level hands back the
 * handler's own promise, or nothing when the handler has finished.
 */
function handleRequest(api: ApiContext, page: PageHandler | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> | void {
  if (!api.access.admitsHost(req.headers.host)) {
    req.resume();
    return sendProblem(res, hostNotAllowed(req.headers.host));
  }
  const url = parseRequestTarget(req.url);
  if (url === undefined) {
    req.resume();
    return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'The request target is not a path this server knows'));
  }
  if (isApiPath(url.pathname) || page === undefined) return handleApiRequest(api, req, res, url);
  return page(req, res, url);
}
