/**
 * @module transport/http/context
 * What every REST handler is given: the projection to read, the one write
 * path, who is asking, and the settings.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProtocolError } from '../../protocol.ts';
import type { AccessControl } from '../../security/access.ts';
import type { Principal } from '../../security/auth.ts';
import type { Catalog } from '../../node/catalog-commands.ts';
import type { Commands, OrderReader } from '../../store/ports.ts';
import type { WebhookService } from '../../notify/webhooks/service.ts';
import type { PresenceReader } from '../ws/shared-presence.ts';
import type { BulkReplays } from './bulk-replays.ts';
import type { RequestTarget } from './request-target.ts';
import type { EmailService } from '../../notify/email/service.ts';

/** What the API handlers work with. */
export interface ApiContext {
  /** The local projection. */
  readonly orders: OrderReader;
  /** The one write path. */
  readonly commands: Commands;
  /** The product catalog: reads from the projection, writes through the same log. */
  readonly catalog: Catalog;
  /** Maximum request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Live numbers for `GET /api/stats`; where the storage is (paths, addresses) only when `location` is true. */
  readonly stats: (options: { readonly location: boolean }) => Record<string, unknown>;
  /**
   * With a shared history: catch up with everything committed anywhere
   * until now (bounded), before answering 404 for an order that may have
   * been created through another instance a moment ago.
   */
  readonly catchUp?: () => Promise<boolean>;
  /** Whether reads may miss writes made elsewhere (see `StorageHealth.staleReads`): they then carry a header saying so. */
  readonly staleReads: () => boolean;
  /** `GET /healthz`: whether this instance can serve writes, and what it reports about its storage. */
  readonly health: () => { readonly ready: boolean } & Record<string, unknown>;
  /** Who may do what. */
  readonly access: AccessControl;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers. */
  readonly corsOrigins: readonly string[];
  /** The Prometheus metrics `GET /metrics` renders. @default none (404) */
  readonly metrics?: { render(): Promise<string> };
  /** Turns a command that failed in storage into the problem the client gets (a 503 with Retry-After, say). */
  readonly onCommandFailure?: (error: unknown) => ProtocolError;
  /** Who watches which order: this instance's sockets, or every instance's with Redis. */
  readonly presence: PresenceReader;
  /** Answers of keyed bulk status changes, for replay. */
  readonly bulkReplays: BulkReplays;
  /** Outgoing webhooks (`/api/webhooks`). */
  readonly webhooks?: WebhookService;
  /** Customer emails: what was sent per order, and one-click unsubscribe. */
  readonly emails?: EmailService;
}

/** What a route's pattern and the access check found. */
export interface RouteMatch {
  readonly url: RequestTarget;
  /** The `:id` (or `:token`) segment, when the route has one. */
  readonly id: string;
  readonly principal: Principal;
}

/** One endpoint's handler; a promise when it reads a body or waits for a commit, so the caller can catch its failure. */
export type Handler = (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, match: RouteMatch) => Promise<void> | void;
