/**
 * @module transport/ws/compose
 * The WebSocket endpoint on a live node: sessions read its projection and
 * history and write through its commands; a history replaced under it
 * (Redis recovered in place) resets every socket's view.
 */

import { ConnectCache } from '../../fanout/connect-cache.ts';
import type { LiveNode } from '../../node/live-node.ts';
import type { SentMessages } from '../../observe/sent-messages.ts';
import { WsEndpoint, type WsEndpointOptions } from './endpoint.ts';
import type { Presence } from './presence.ts';
import type { ResumeCounts } from './sync.ts';

/** How long a peer sent a close frame (slow, shutting down) has before its socket is destroyed, in milliseconds. */
export const CLOSE_GRACE_MS = 2000;

/** What the WebSocket transport is built with, besides the node: the endpoint's settings, and what its sessions share. */
export type WsParts = Pick<WsEndpointOptions, 'maxPayload' | 'maxConnections' | 'heartbeatIntervalMs' | 'highWaterMark' | 'messagesPerSecond' | 'perMessageDeflate' | 'allowedOrigins' | 'allowedHosts' | 'access' | 'logger'> & {
  readonly presence: Presence;
  readonly resumes: ResumeCounts;
  readonly sentMessages: SentMessages;
};

/**
 * The WebSocket endpoint on the node.
 * @param node the live node
 * @param parts limits, access, presence, counters, logger
 */
export function webSocketTransport(node: LiveNode, parts: WsParts): WsEndpoint {
  const { access, logger } = parts;
  const connectCache = new ConnectCache();
  const ws = new WsEndpoint({
    ...parts,
    closeGraceMs: CLOSE_GRACE_MS,
    sessions: {
      orders: node.projection,
      ring: node.history,
      source: node.storage.log,
      hub: node.hub,
      connectCache,
      resumes: parts.resumes,
      commands: node.commands,
      logger,
      access,
      onCommandFailure: (error) => node.storageFailure(error),
      presence: parts.presence,
      // Another instance may be a little ahead of this one: a client coming from it waits for this tail, not for a reset.
      ...(node.shared ? { catchUp: (seq: number) => node.catchUp(seq) } : {}),
    },
    sent: parts.sentMessages,
  });
  node.onReload((state) => {
    // Everything derived from the old history goes: cached connect snapshots, and each socket's view (a reset snapshot).
    connectCache.clear();
    const sockets = ws.resetViews();
    logger.info('the history was replaced: sockets sent a reset snapshot', { epoch: state.position.epoch, seq: state.position.seq, sockets });
  });
  return ws;
}
