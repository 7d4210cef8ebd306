/**
 * @module security/policy
 * The one access table: every action a client can ask for, over HTTP or
 * WebSocket, and who may do it. The router names an action per route, the
 * WebSocket session one per message type; both ask `AccessControl.admit`,
 * which reads this table and nothing else.
 */

import { ROLES, type Role } from '../protocol.ts';
import type { Principal } from './auth.ts';

/** Who may do an action. */
export interface AccessRule {
  /**
   * The roles whose token allows it (a signed-in user needs one of them
   * among the roles its token grants; with no tokens configured, everyone
   * may); `anyone`: no credential is asked; `tracking`: the credential is
   * the order's tracking token itself.
   */
  readonly roles: readonly Role[] | 'anyone' | 'tracking';
  /** Whether a tracking token's holder may do it too, for its own order only. */
  readonly ownOrder: boolean;
  /** Whether it counts against the sender's write allowance (it changes something, or hands out a capability). */
  readonly limited: boolean;
  /** The end of "The viewer role may not …". */
  readonly what: string;
  /** Whether `METRICS_TOKEN` opens it (a Prometheus server's credential, good for nothing else). @default false */
  readonly scraper?: boolean;
  /** In open mode (no tokens), whether only loopback peers may do it rather than anyone who reaches the port. @default false */
  readonly loopbackWhenOpen?: boolean;
}

const EVERY_ROLE: readonly Role[] = ROLES;
const WRITERS: readonly Role[] = ['admin', 'operator'];

/** The access table. */
export const ACCESS_POLICY = {
  /** `GET /api`. */
  readIndex: { roles: 'anyone', ownOrder: false, limited: false, what: 'read the index' },
  /** `GET /healthz`. */
  checkHealth: { roles: 'anyone', ownOrder: false, limited: false, what: 'check health' },
  /** `GET /ws` without an upgrade: the 426 that says how to connect. */
  findWebSocket: { roles: 'anyone', ownOrder: false, limited: false, what: 'find the WebSocket address' },
  /** `GET /api/orders` and `GET /api/orders.csv`. */
  listOrders: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'read the store' },
  /** `GET /api/orders/ID`. */
  readOrder: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'read the store' },
  /** `GET /api/stats`. */
  readStats: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'read the store' },
  /** A WebSocket's stream: the view it connects with, and each `subscribe`. A tracking socket watches its own order only. */
  watchOrders: { roles: EVERY_ROLE, ownOrder: true, limited: false, what: 'read the store' },
  /** `GET /api/track/TOKEN`: the one order a tracking token opens. */
  trackOrder: { roles: 'tracking', ownOrder: true, limited: false, what: 'read that order' },
  /** `POST /api/orders`, the `createOrder` message. */
  createOrder: { roles: WRITERS, ownOrder: false, limited: true, what: 'create or change orders' },
  /** `PUT`/`PATCH /api/orders/ID/status`, the `updateStatus` message. */
  changeStatus: { roles: WRITERS, ownOrder: false, limited: true, what: 'create or change orders' },
  /** `GET /api/orders/ID/tracking-token`: a shareable capability, so only those who get one when creating may ask again. */
  reissueTrackingToken: { roles: WRITERS, ownOrder: false, limited: true, what: 'create or change orders' },
  /** `GET /api/products`, `GET /api/products/SKU`. */
  readProducts: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'read the catalog' },
  /** `POST /api/products`, `PATCH` and `DELETE /api/products/SKU`, `POST /api/products/SKU/stock`. */
  writeProducts: { roles: WRITERS, ownOrder: false, limited: true, what: 'change the catalog' },
  /** `POST /api/orders/status`: one status for many orders, each its own change; one request counts once against the allowance. */
  changeStatuses: { roles: WRITERS, ownOrder: false, limited: true, what: 'create or change orders' },
  /** `GET /api/orders/ID/presence`: how many watch an order, by role. Customers never learn of other customers. */
  readPresence: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'see who watches an order' },
  /** The `watch` message: a board socket says which order's detail it has open (tracking sockets watch their own order already). */
  announceWatch: { roles: EVERY_ROLE, ownOrder: false, limited: false, what: 'announce which order it watches' },
  /** `GET /api/orders/ID/emails`: what was emailed to the customer (it names the customer's address's outcomes). */
  readOrderEmails: { roles: WRITERS, ownOrder: false, limited: false, what: 'read what was emailed' },
  /** `GET`/`POST /api/email/unsubscribe/TOKEN`: the link in an email is the credential (checked by the handler). */
  unsubscribeEmail: { roles: 'anyone', ownOrder: false, limited: false, what: 'unsubscribe' },
  /** `DELETE /api/orders/ID`. */
  deleteOrder: { roles: ['admin'], ownOrder: false, limited: true, what: 'delete orders' },
  /** `GET /metrics`: admins, `METRICS_TOKEN`, or in open mode a loopback peer. */
  readMetrics: { roles: ['admin'], ownOrder: false, limited: false, what: 'read the metrics', scraper: true, loopbackWhenOpen: true },
  /** `GET /api/webhooks`, one endpoint, its deliveries: they show where events go. */
  readWebhooks: { roles: ['admin'], ownOrder: false, limited: false, what: 'see webhooks' },
  /** Create, change, delete, rotate, test and retry webhooks. */
  manageWebhooks: { roles: ['admin'], ownOrder: false, limited: true, what: 'manage webhooks' },
} as const satisfies Record<string, AccessRule>;

/** One of the actions of {@link ACCESS_POLICY}. */
export type Action = keyof typeof ACCESS_POLICY;

/**
 * Whether the table lets `principal` do `action`. Credentials are checked
 * before this: an `anyone` or `tracking` action admits whoever got that far.
 * @param principal who
 * @param action what
 * @param orderId the order the action concerns, when it concerns one
 */
export function permits(principal: Principal, action: Action, orderId?: string): boolean {
  const rule: AccessRule = ACCESS_POLICY[action];
  if (rule.roles === 'anyone') return true;
  switch (principal.kind) {
    case 'open':
      return true;
    case 'role':
      return rule.roles !== 'tracking' && rule.roles.includes(principal.role);
    case 'user': {
      const { roles } = rule;
      return roles !== 'tracking' && principal.roles.some((role) => roles.includes(role));
    }
    case 'tracking':
      return rule.ownOrder && orderId === principal.orderId;
    case 'scraper':
      return rule.scraper === true;
  }
}
