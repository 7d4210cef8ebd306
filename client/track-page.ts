/**
 * @module client/track-page
 * The customer tracking page's composition root (`/track/TOKEN`): looks the
 * order up once over REST (an unknown link is answered at once, never with an
 * endless "Connecting…"), then follows it live over `/ws?track=TOKEN`. When
 * the connection keeps failing it asks again whether the link still opens an
 * order, and stops for good once it does not.
 */

import { getTrackedOrder } from './api.ts';
import { openConnection, type Connection } from './connection.ts';
import { createTrackingUi, type TrackingModel } from './ui/tracking.ts';
import { backoffDelay } from './stream/backoff.ts';
import { WS_SUBPROTOCOL, type Order, type ServerMessage } from '../src/protocol.ts';

/**
 * Run the tracking page for `token`.
 * @param token the tracking token from the path
 */
export function startTracking(token: string): void {
  let connection: Connection | undefined;
  let order: Order | undefined;
  let lookupFailures = 0;
  const ui = createTrackingUi(document, () => connection?.retryNow());

  const show = (model: TrackingModel): void => {
    if (model.kind === 'not-found' || model.kind === 'gone') {
      connection?.close();
      connection = undefined;
    }
    ui.render(model);
  };

  const lookUp = async (): Promise<void> => {
    const result = await getTrackedOrder(token);
    if (result.ok) {
      order = result.value;
      show({ kind: 'order', order });
      connect();
      return;
    }
    if (result.error.status === 404) return show({ kind: 'not-found' });
    // Not reachable (or failing): try again with the same backoff as the socket.
    const delay = backoffDelay(lookupFailures++);
    show({ kind: 'unreachable', retryAt: Date.now() + delay });
    setTimeout(() => void lookUp(), delay);
  };

  /** After a failed reconnect: a link that no longer opens an order will never connect again. */
  const recheck = async (): Promise<void> => {
    const result = await getTrackedOrder(token);
    if (!result.ok && result.error.status === 404) show({ kind: order === undefined ? 'not-found' : 'gone' });
  };

  const onMessage = (message: ServerMessage): void => {
    if (message.type === 'snapshot') {
      // A tracking snapshot holds exactly this order, or nothing once it is gone.
      order = message.orders[0];
      return show(order === undefined ? { kind: 'gone' } : { kind: 'order', order });
    }
    if (message.type !== 'events' || order === undefined) return;
    for (const event of message.events) {
      if (event.order.id !== order.id) continue;
      if (event.type === 'order.deleted') return show({ kind: 'gone' });
      order = event.order;
    }
    show({ kind: 'order', order });
  };

  const connect = (): void => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    connection = openConnection({
      url: () => `${scheme}//${location.host}/ws?track=${encodeURIComponent(token)}`,
      protocols: () => [WS_SUBPROTOCOL],
      onStatus: (status) => {
        ui.setConnection(status);
        if (status.kind === 'waiting') void recheck();
      },
      onMessage,
      onProtocolError: (text) => console.warn('liveorders: ignored a frame this page does not understand', text.slice(0, 200)),
    });
  };

  show({ kind: 'loading' });
  void lookUp();
}
