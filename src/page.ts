/**
 * @module page
 * Serves the browser page. (Placeholder until the page is built.)
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendProblem, sendText } from './http-io.ts';
import type { Logger } from './logger.ts';
import { ProtocolError } from './protocol.ts';

/** Answers a non-API request. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/**
 * Create the page handler.
 * @param _options logger for build problems
 */
export function createPageHandler(_options: { logger: Logger }): PageHandler {
  return (_req, res, url) => {
    if (url.pathname !== '/') return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', `No page at ${url.pathname}`));
    sendText(res, 200, '<!doctype html><title>liveorders</title><p>liveorders is running.</p>', {
      'Content-Type': 'text/html; charset=utf-8',
    });
  };
}
