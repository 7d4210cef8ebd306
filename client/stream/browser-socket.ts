/**
 * @module client/stream/browser-socket
 * {@link OpenSocket} over the browser's own `WebSocket`.
 */

import type { OpenSocket } from './socket.ts';

/**
 * Open browser WebSockets offering these subprotocols (a browser's only way
 * to send a token with the upgrade).
 * @param protocols asked before each attempt
 */
export function browserSockets(protocols: () => string[]): OpenSocket {
  return (url, listener) => {
    const ws = new WebSocket(url, protocols());
    let ended = false;
    ws.addEventListener('open', () => {
      if (!ended) listener.open();
    });
    ws.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (!ended && typeof event.data === 'string') listener.message(event.data);
    });
    // A browser says nothing about why an attempt failed: 'error' is always followed by 'close'.
    ws.addEventListener('close', (event: CloseEvent) => {
      if (ended) return;
      ended = true;
      listener.close({ code: event.code, reason: event.reason });
    });
    const end = (): void => {
      ended = true;
      ws.close();
    };
    return {
      get isOpen() {
        return ws.readyState === WebSocket.OPEN;
      },
      send: (text) => ws.send(text),
      close: end,
      // A page cannot drop a socket without the closing handshake; forgetting it is what counts.
      terminate: end,
    };
  };
}
