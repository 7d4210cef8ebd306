/**
 * @module transport/ws/session
 * One WebSocket client's messages: `ping`, `subscribe`, `watch` (presence), the commands
 * `createOrder` and `updateStatus`, which go through the same write path as
 * HTTP and are acknowledged only once committed and applied here, and
 * `refresh`, which brings a later identity provider token. Callable
 * without a network: tests hand {@link handleClientMessage} a fake
 * {@link SessionSocket}.
 */

import {
  CLOSE_CODES,
  SNAPSHOT_LIMITS,
  assertNever,
  parseClientFrame,
  toWireError,
  type AckMessage,
  type ClientMessage,
  type CreateOrderMessage,
  type ErrorMessage,
  type Order,
  ProtocolError,
  type RefreshMessage,
  type Result,
  type UpdateStatusMessage,
  type View,
  orderNotFound,
  redactOrder,
} from '../../protocol.ts';
import { seesCustomerContact } from '../../security/auth.ts';
import type { AccessControl } from '../../security/access.ts';
import type { Commands } from '../../store/ports.ts';
import type { Logger } from '../../support/logger.ts';
import { createOrderFor } from '../create-order.ts';
import type { Presence } from './presence.ts';
import type { Session } from './session-state.ts';
import { resetView, send, startView, type SyncContext } from './sync.ts';
import { armExpiry } from './token-expiry.ts';

export type { SessionSocket } from './client-socket.ts';
export type { Session } from './session-state.ts';

/**
 * Messages a client may send ahead of an unanswered command; one more closes
 * the connection with 1008. Each may be 64 KiB, so this bounds what one
 * connection can make the server hold.
 */
export const MAX_WAITING_MESSAGES = 64;

/** Shared by every session. */
export interface SessionContext extends SyncContext {
  /** The one write path. */
  readonly commands: Commands;
  readonly logger: Logger;
  /** Who may do what over the socket (the same rules as HTTP). */
  readonly access: AccessControl;
  /** Told when a command failed in storage; turns it into the error the client gets. */
  readonly onCommandFailure?: (error: unknown) => ProtocolError;
  /** Who watches which order (the `watch` message). */
  readonly presence: Presence;
}

/**
 * Handle one text frame from a client. Never throws: a bad message gets an
 * `error` message and the connection stays open. A connection's messages
 * are handled one at a time, in order: while a command is being committed,
 * what comes after it waits, so every answer comes in the order its message
 * was sent, and a client has at most one write in flight.
 * @param ctx shared context
 * @param session the client
 * @param text the frame
 */
export function handleClientMessage(ctx: SessionContext, session: Session, text: string): void {
  if (session.busy === true) {
    const waiting = (session.waiting ??= []);
    if (waiting.length >= MAX_WAITING_MESSAGES) {
      session.socket.close(CLOSE_CODES.policyViolation, `too many messages waiting for an answer: at most ${MAX_WAITING_MESSAGES}`);
      return;
    }
    waiting.push(text);
    return;
  }
  handleOne(ctx, session, text);
}

/** Handle the messages that waited for a command, until one of them is a command again. */
function drain(ctx: SessionContext, session: Session): void {
  session.busy = false;
  const waiting = session.waiting;
  while (waiting !== undefined && waiting.length > 0 && session.socket.open) {
    if (handleNow(ctx, session, waiting.shift()!)) return;
  }
}

/** @returns whether the message started a command (the session is busy until it is answered) */
function handleNow(ctx: SessionContext, session: Session, text: string): boolean {
  handleOne(ctx, session, text);
  return session.busy === true;
}

function handleOne(ctx: SessionContext, session: Session, text: string): void {
  const { message: parsed, requestId } = parseClientFrame(text);
  if (!parsed.ok) {
    send(session.socket, errorMessage(parsed.error, requestId));
    return;
  }
  const message = parsed.value;
  try {
    const refused = checkAccess(ctx, session, message);
    if (refused !== undefined) {
      send(session.socket, errorMessage(refused, requestIdOf(message)));
      return;
    }
    dispatch(ctx, session, message);
  } catch (error) {
    failed(ctx, session, message, error);
  }
}

/** The socket obeys the access table as HTTP does: each message type is one of its actions. */
function checkAccess(ctx: SessionContext, session: Session, message: ClientMessage): ProtocolError | undefined {
  const { principal, address } = session;
  let admitted: Result<void>;
  switch (message.type) {
    case 'ping':
    case 'refresh': // it brings its own credential, checked as it is handled
      return undefined;
    case 'subscribe':
      admitted = ctx.access.admit(principal, 'watchOrders', { ...(message.orderId === undefined ? {} : { orderId: message.orderId }), address });
      break;
    case 'createOrder':
      admitted = ctx.access.admit(principal, 'createOrder', { address });
      break;
    case 'updateStatus':
      admitted = ctx.access.admit(principal, 'changeStatus', { orderId: message.orderId, address });
      break;
    case 'watch':
      admitted = ctx.access.admit(principal, 'announceWatch', { ...(message.orderId === undefined ? {} : { orderId: message.orderId }), address });
      break;
    default:
      return assertNever(message);
  }
  return admitted.ok ? undefined : admitted.error;
}

function dispatch(ctx: SessionContext, session: Session, message: ClientMessage): void {
  switch (message.type) {
    case 'ping':
      send(session.socket, message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
      return;
    case 'subscribe': {
      const view: View = {
        ...(message.orderId === undefined ? {} : { orderId: message.orderId }),
        ...(message.statuses === undefined ? {} : { statuses: message.statuses }),
      };
      startView(ctx, session, view, message.limit ?? SNAPSHOT_LIMITS.default);
      return;
    }
    case 'watch':
      if (message.orderId !== undefined && ctx.orders.get(message.orderId) === undefined) {
        send(session.socket, errorMessage(orderNotFound(message.orderId)));
        return;
      }
      ctx.presence.set(session, message.orderId);
      return;
    case 'createOrder':
    case 'updateStatus':
    case 'refresh':
      // A refresh waits for the provider's keys like a command for storage: what follows waits for its answer.
      session.busy = true;
      (message.type === 'createOrder' ? createOrder(ctx, session, message) : message.type === 'updateStatus' ? updateStatus(ctx, session, message) : refresh(ctx, session, message))
        .catch((error: unknown) => failed(ctx, session, message, error))
        .finally(() => drain(ctx, session));
      return;
    default:
      assertNever(message);
  }
}

async function createOrder(ctx: SessionContext, session: Session, message: CreateOrderMessage): Promise<void> {
  const result = await createOrderFor(ctx.commands, ctx.access, session.principal, message.order, message.idempotencyKey);
  if (!result.ok) return send(session.socket, errorMessage(result.error, message.requestId));
  send(session.socket, { ...ack(session, result.value.order, message.requestId), trackingToken: result.value.trackingToken });
}

async function updateStatus(ctx: SessionContext, session: Session, message: UpdateStatusMessage): Promise<void> {
  const result = await ctx.commands.changeStatus(message.orderId, message.status, message.expectedVersion);
  send(session.socket, result.ok ? ack(session, result.value.order, message.requestId) : errorMessage(result.error, message.requestId));
}

/** Take a later token of the same user: the socket now lives until it expires. A refused one changes nothing. */
async function refresh(ctx: SessionContext, session: Session, message: RefreshMessage): Promise<void> {
  const next = await ctx.access.refresh(session.principal, message.token);
  if (!next.ok) return send(session.socket, errorMessage(next.error, message.requestId));
  if (!session.socket.open || next.value.kind !== 'user') return;
  const sawContact = seesCustomerContact(session.principal);
  session.principal = next.value;
  armExpiry(session);
  send(session.socket, { type: 'refreshed', ...(message.requestId === undefined ? {} : { requestId: message.requestId }), expiresAt: next.value.exp });
  // Roles that change whether customers' addresses may be seen: the view is sent again as the new roles see it.
  if (seesCustomerContact(next.value) !== sawContact) resetView(ctx, session);
}

/** A handler that threw (a bug) or a command that storage could not take: logged, and answered without internals. */
function failed(ctx: SessionContext, session: Session, message: ClientMessage, error: unknown): void {
  const wire = ctx.onCommandFailure?.(error) ?? toWireError(error);
  if (wire.code === 'LO_ERR_INTERNAL') ctx.logger.error('client message handler failed', { error, type: message.type });
  send(session.socket, errorMessage(wire, requestIdOf(message)));
}

function ack(session: Session, order: Order, requestId: string | undefined): AckMessage {
  // Only writers get acks today; should a role that may not see contact details ever write, its acks stay redacted.
  const shown = seesCustomerContact(session.principal) ? order : redactOrder(order);
  return requestId === undefined ? { type: 'ack', order: shown } : { type: 'ack', requestId, order: shown };
}

function errorMessage(error: ProtocolError, requestId?: string): ErrorMessage {
  const { errors, shortages } = error.details;
  return {
    type: 'error',
    code: error.code,
    message: error.message,
    ...(requestId === undefined ? {} : { requestId }),
    ...(errors === undefined ? {} : { errors }),
    ...(shortages === undefined ? {} : { shortages }),
  };
}

function requestIdOf(message: ClientMessage): string | undefined {
  return 'requestId' in message ? message.requestId : undefined;
}
