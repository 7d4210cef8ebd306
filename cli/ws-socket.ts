/**
 * @module cli/ws-socket
 * {@link OpenSocket} over the `ws` library, for the terminal client: a
 * bearer token in the upgrade's headers, a bounded handshake, and a refused
 * upgrade reported with its HTTP status and the start of its body.
 */

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { OpenSocket, SocketClose } from '../client/stream/socket.ts';

/** How long an upgrade may take before the attempt counts as failed, in milliseconds. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How much of each chunk of a refusal's body is kept. */
const REFUSAL_CHUNK_LENGTH = 500;
/** The close code of a connection that was lost, or never made. */
const CONNECTION_LOST = 1006;

/**
 * Open `ws` sockets, sending the token as `Authorization: Bearer` when there is one.
 * @param token the token now (asked before each attempt: a fresh one replaces an expired one)
 */
export function wsSockets(token: () => string | undefined): OpenSocket {
  return (url, listener) => {
    const bearer = token();
    const headers = bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` };
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, headers });
    let ended = false;
    let lastError: NodeJS.ErrnoException | undefined;
    const end = (close: SocketClose): void => {
      if (ended) return;
      ended = true;
      listener.close(close);
    };
    ws.on('open', () => {
      if (!ended) listener.open();
    });
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      const refused = (body: string): void => {
        end({ code: CONNECTION_LOST, reason: '', refused: { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: body.trim() } });
        ws.terminate();
      };
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, REFUSAL_CHUNK_LENGTH)));
      res.on('end', () => refused(body));
      res.on('error', () => refused(''));
    });
    // 'close' follows every error; the error says why.
    ws.on('error', (error: NodeJS.ErrnoException) => (lastError = error));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && !ended) listener.message(data.toString());
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const error = lastError === undefined ? {} : { error: { ...(lastError.code === undefined ? {} : { code: lastError.code }), message: lastError.message } };
      end({ code, reason: reason.toString(), ...error });
    });
    return {
      get isOpen() {
        return ws.readyState === WebSocket.OPEN;
      },
      send: (text) => ws.send(text),
      close: () => {
        ended = true;
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        else ws.terminate();
      },
      terminate: () => {
        ended = true;
        ws.terminate();
      },
    };
  };
}
