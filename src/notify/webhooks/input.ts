/**
 * @module notify/webhooks/input
 * What a client may send to create or change an endpoint, checked field
 * by field: an http(s) URL without credentials, known event names, a
 * short description, and (on change) `enabled`. Unknown fields are refused.
 */

import { ProtocolError, fail, ok, type FieldError, type Result } from '../../protocol.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './model.ts';

/** A valid create. */
export interface EndpointInput {
  readonly url: string;
  readonly events: WebhookEventType[];
  readonly description: string;
}

/** A valid change: only the fields sent. */
export interface EndpointPatch {
  readonly url?: string;
  readonly events?: WebhookEventType[];
  readonly description?: string;
  readonly enabled?: boolean;
}

const MAX_URL_LENGTH = 2000;
const MAX_DESCRIPTION_LENGTH = 500;
const CREATE_FIELDS = new Set(['url', 'events', 'description']);
const PATCH_FIELDS = new Set(['url', 'events', 'description', 'enabled']);

/**
 * Check a create's body.
 * @param body the parsed JSON
 */
export function parseEndpointInput(body: unknown): Result<EndpointInput> {
  const patch = parseFields(body, CREATE_FIELDS, 'The webhook endpoint');
  if (!patch.ok) return patch;
  if (patch.value.url === undefined) return invalid('The webhook endpoint', [{ field: 'url', message: 'is required: the http(s) address to send events to' }]);
  return ok({ url: patch.value.url, events: patch.value.events ?? [...WEBHOOK_EVENT_TYPES], description: patch.value.description ?? '' });
}

/**
 * Check a change's body.
 * @param body the parsed JSON
 */
export function parseEndpointPatch(body: unknown): Result<EndpointPatch> {
  return parseFields(body, PATCH_FIELDS, 'The change');
}

function parseFields(body: unknown, allowed: ReadonlySet<string>, what: string): Result<EndpointPatch> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid(what, [{ field: '', message: 'must be a JSON object' }]);
  const fields = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const name of Object.keys(fields)) if (!allowed.has(name)) errors.push({ field: name.slice(0, 100), message: `is not a field (allowed: ${[...allowed].join(', ')})` });
  const patch: { url?: string; events?: WebhookEventType[]; description?: string; enabled?: boolean } = {};
  if (fields.url !== undefined) {
    const url = checkUrl(fields.url);
    if (url.ok) patch.url = url.value;
    else errors.push({ field: 'url', message: url.error });
  }
  if (fields.events !== undefined) {
    const events = fields.events;
    if (!Array.isArray(events) || events.length === 0) errors.push({ field: 'events', message: `must be a non-empty list of ${WEBHOOK_EVENT_TYPES.join(', ')}` });
    else {
      events.forEach((name: unknown, index) => {
        if (!(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(name)) errors.push({ field: `events[${index}]`, message: `is not an event type (known: ${WEBHOOK_EVENT_TYPES.join(', ')})` });
      });
      patch.events = [...new Set(events as WebhookEventType[])];
    }
  }
  if (fields.description !== undefined) {
    if (typeof fields.description !== 'string' || fields.description.length > MAX_DESCRIPTION_LENGTH) errors.push({ field: 'description', message: `must be text of at most ${MAX_DESCRIPTION_LENGTH} characters` });
    else patch.description = fields.description;
  }
  if (fields.enabled !== undefined) {
    if (typeof fields.enabled !== 'boolean') errors.push({ field: 'enabled', message: 'must be true or false' });
    else patch.enabled = fields.enabled;
  }
  return errors.length > 0 ? invalid(what, errors) : ok(patch);
}

/** The URL, normalised, or why it is refused. */
function checkUrl(value: unknown): Result<string, string> {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) return fail(`must be an http(s) URL of at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`must use http or https, not ${url.protocol.slice(0, 20)}`);
  if (url.username !== '' || url.password !== '') return fail('must not carry a user name or password (the signature authenticates us)');
  if (url.hash !== '') return fail('must not have a #fragment');
  return ok(url.href);
}

function invalid(what: string, errors: readonly FieldError[]): Result<never> {
  return fail(new ProtocolError('LO_ERR_INVALID_FIELD', `${what} is invalid: ${errors.map((e) => `${e.field} ${e.message}`.trim()).join('; ')}`, { errors }));
}
