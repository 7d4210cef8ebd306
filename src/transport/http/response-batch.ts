/**
 * @module transport/http/response-batch
 * HTTP answers are written together at the end of the event-loop turn that
 * produced them, instead of one by one as each request is handled.
 *
 * Why: every write to a connection whose client is waiting wakes that client
 * up, and on this kind of machine (two virtual cores, loopback) the wake-up
 * is paid inside the server's `writev`. Answers written one by one, a few
 * microseconds apart, each pay it; written back to back, the first wakes the
 * client and the rest find it awake (BENCHMARKS.md has what it saved under
 * concurrent writers). It is the same lever as the hub's per-turn coalescing,
 * and like it adds no timer: answers leave in the same turn (`setImmediate`).
 */

import type { ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, ProtocolError, encodeProblem } from '../../protocol.ts';

/** An answer waiting for the end of the turn. */
interface QueuedAnswer {
  readonly res: ServerResponse;
  readonly status: number;
  /** Header fields as [name, value, ...]. */
  readonly fields: string[];
  readonly body: string | Buffer | undefined;
}

let queue: QueuedAnswer[] = [];

/**
 * Queue an answer for the end of this turn. Only the first answer queued for
 * a response is written; later ones are dropped, as `res.headersSent` guards
 * against writing twice.
 * @param res the response
 * @param status HTTP status
 * @param fields header fields as [name, value, ...]
 * @param body the body, or `undefined` for none
 */
export function queueResponse(res: ServerResponse, status: number, fields: string[], body: string | Buffer | undefined): void {
  if (res.headersSent) return;
  if (queue.length === 0) setImmediate(writeQueuedResponses);
  queue.push({ res, status, fields, body });
}

/** Write every queued answer, back to back. */
function writeQueuedResponses(): void {
  const answers = queue;
  queue = [];
  for (const { res, status, fields, body } of answers) {
    // Answered already (an earlier entry), or the client went while the answer waited.
    if (res.headersSent || res.destroyed) continue;
    try {
      res.writeHead(status, fields);
      res.end(body);
    } catch {
      // A header node:http refuses (the handler that built it has returned, so it cannot
      // answer 500 itself): answer 500 here rather than let one bad answer stop the others.
      writeInternalError(res);
    }
  }
}

function writeInternalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = encodeProblem(new ProtocolError('LO_ERR_INTERNAL', 'The server failed to write its answer'), res.req.url);
  res.writeHead(500, ['Content-Type', PROBLEM_CONTENT_TYPE, 'Content-Length', String(Buffer.byteLength(body)), 'X-Content-Type-Options', 'nosniff']);
  res.end(body);
}
