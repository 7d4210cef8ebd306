/**
 * @module notify/webhooks/service
 * Outgoing webhooks: the endpoints, one durable consumer of the tail per
 * enabled endpoint (its own position, so a slow or dead endpoint holds
 * back only itself, and re-enabling resumes where it stopped; deleting the
 * endpoint deletes the position once its worker has stopped), secret
 * rotation, test sends and manual retries. The HTTP routes
 * (transport/http/webhooks.ts) call this; nothing here answers requests.
 */

import { randomBytes } from 'node:crypto';
import { ProtocolError, fail, ok, type Result } from '../../protocol.ts';
import type { Logger } from '../../support/logger.ts';
import { RefusedAddressError, resolveTarget } from './address-policy.ts';
import { attemptDelivery, type AttemptContext, type AttemptOutcome } from './attempt.ts';
import { DeliveryLog } from './delivery-log.ts';
import { consumerName, EndpointWorker, type WorkerContext } from './endpoint-worker.ts';
import type { WebhookHost } from './host.ts';
import type { EndpointInput, EndpointPatch } from './input.ts';
import { deliveryView, endpointView, TEST_EVENT_TYPE, type Delivery, type DisabledReason, type EndpointView, type WebhookEndpoint } from './model.ts';
import type { AttemptResult } from './send.ts';
import { SenderThread } from './sender-thread.ts';
import type { WebhookSettings } from './settings.ts';
import { newSecret } from './signature.ts';
import type { WebhookStore } from './store.ts';
import { SenderLease } from '../lease.ts';
import type { ConsumerPositions, SideKeys } from '../../store/ports.ts';

/** The lease name of webhook sending with a shared history: one instance sends to every endpoint. */
export const WEBHOOK_LEASE_NAME = 'webhooks';

/** How often an instance sharing a history re-reads the endpoints (changes made on other instances), in milliseconds. */
export const ENDPOINT_REFRESH_MS = 1000;

/** How long the secret before a rotation still signs. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

/** Endpoints at most (each is a consumer of the tail). */
export const MAX_ENDPOINTS = 100;

/** How long counter changes (successes, failures) wait to be saved together, in milliseconds. */
const COUNTS_SAVE_DELAY_MS = 1000;

/** What the service is built with. */
export interface WebhookServiceOptions {
  readonly host: WebhookHost;
  readonly store: WebhookStore;
  readonly settings: WebhookSettings;
  readonly logger: Logger;
  /** Told of every attempt's outcome (metrics count them). */
  readonly onAttempt?: (outcome: AttemptOutcome) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * With a history shared by instances (Redis): the store is shared too,
   * endpoints are re-read every {@link ENDPOINT_REFRESH_MS} and before each
   * request, and only the holder of the webhook sender lease sends.
   */
  readonly shared?: { readonly side: SideKeys; readonly positions: ConsumerPositions; readonly leaseTtlMs?: number };
}

/** A created endpoint, or one with a new secret: the only answers that show it whole. */
export type EndpointWithSecret = EndpointView & { readonly secret: string };

/** The outcome of a test send or a manual retry. */
export interface SendAnswer {
  readonly id: string;
  readonly delivered: boolean;
  readonly status: number | null;
  readonly error?: string;
  readonly durationMs: number;
}

/** The webhooks of one instance. */
export class WebhookService {
  readonly #host: WebhookHost;
  readonly #store: WebhookStore;
  readonly #settings: WebhookSettings;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #onAttempt: ((outcome: AttemptOutcome) => void) | undefined;
  /** Makes every attempt, on a thread that yields to the serving one. */
  readonly #sender: SenderThread;
  readonly #endpoints = new Map<string, WebhookEndpoint>();
  readonly #workers = new Map<string, EndpointWorker>();
  /** Workers being stopped, by endpoint: a deleted endpoint's position is deleted only once its worker can no longer save it. */
  readonly #stopping = new Map<string, Promise<void>>();
  /** The last seq each endpoint without a worker had been through (for its backlog). */
  readonly #stoppedAt = new Map<string, number>();
  readonly #countTimers = new Map<string, NodeJS.Timeout>();
  #deliveries: DeliveryLog | undefined;
  #closed = false;
  readonly #shared: WebhookServiceOptions['shared'];
  #lease: SenderLease | undefined;
  /** The lease holder's fenced positions; `undefined` while another instance sends. */
  #fenced: ConsumerPositions | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  /** Re-reads and changes, one at a time (see {@link WebhookService.refresh}). */
  #refreshing: Promise<void> = Promise.resolve();

  /** @param options the node, the store, the settings */
  constructor(options: WebhookServiceOptions) {
    this.#host = options.host;
    this.#store = options.store;
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#onAttempt = options.onAttempt;
    this.#sender = new SenderThread((error) => this.#logger.error('the webhook sender thread failed', { error }));
    this.#shared = options.shared;
  }

  /** Load the endpoints and start a consumer for each enabled one. */
  async start(): Promise<void> {
    const stored = await this.#store.load();
    this.#deliveries = new DeliveryLog(this.#store, this.#logger, stored.deliveries);
    if (this.#shared !== undefined) return this.#startShared(stored.endpoints);
    for (const endpoint of stored.endpoints) {
      this.#endpoints.set(endpoint.id, endpoint);
      const saved = await this.#host.storage.positions.load(consumerName(endpoint.id));
      const lastSeq = saved !== undefined && saved.epoch === this.#host.position.epoch ? saved.seq : this.#host.position.seq;
      if (endpoint.enabled) await this.#startWorker(endpoint, lastSeq);
      else this.#stoppedAt.set(endpoint.id, lastSeq);
    }
  }

  /** Stop every consumer (attempts in flight are cut; their events are sent again on start) and save what changed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refreshTimer);
    await this.#lease?.stop();
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop()));
    this.#workers.clear();
    await this.#sender.stop();
    for (const [id, timer] of this.#countTimers) {
      clearTimeout(timer);
      const endpoint = this.#endpoints.get(id);
      if (endpoint !== undefined) await this.#store.saveEndpoint(endpoint).catch((error: unknown) => this.#logger.error('saving a webhook endpoint failed', { endpoint: id, error }));
    }
    this.#countTimers.clear();
    await this.#deliveries?.flush();
  }

  /** Add an endpoint: it gets the events committed from now on. With a shared store: after a re-read, and none runs meanwhile. */
  create(input: EndpointInput): Promise<Result<EndpointWithSecret>> {
    return this.#locked(() => this.#create(input));
  }

  /** Change an endpoint; `enabled: true` resumes where it stopped. With a shared store: after a re-read, and none runs meanwhile. */
  update(id: string, patch: EndpointPatch): Promise<Result<EndpointView>> {
    return this.#locked(() => this.#update(id, patch));
  }

  /** Delete an endpoint and its deliveries. With a shared store: after a re-read, and none runs meanwhile. */
  remove(id: string): Promise<Result<void>> {
    return this.#locked(() => this.#remove(id));
  }

  /** A new secret; the old one signs too for {@link ROTATION_OVERLAP_MS}. With a shared store: after a re-read, and none runs meanwhile. */
  rotateSecret(id: string): Promise<Result<EndpointWithSecret>> {
    return this.#locked(() => this.#rotateSecret(id));
  }

  /** Every endpoint, oldest first. */
  list(): EndpointView[] {
    return [...this.#endpoints.values()].map((endpoint) => this.#view(endpoint));
  }

  /**
   * One endpoint.
   * @param id its id
   */
  get(id: string): Result<EndpointView> {
    const endpoint = this.#endpoints.get(id);
    return endpoint === undefined ? notFound(id) : ok(this.#view(endpoint));
  }

  /**
   * Add an endpoint: it gets the events committed from now on.
   * @param input a checked create
   */
  async #create(input: EndpointInput): Promise<Result<EndpointWithSecret>> {
    if (this.#endpoints.size >= MAX_ENDPOINTS) return fail(new ProtocolError('LO_ERR_INVALID_FIELD', `There are ${MAX_ENDPOINTS} webhook endpoints already; delete one first`));
    const target = await this.#checkTarget(input.url);
    if (!target.ok) return target;
    const endpoint: WebhookEndpoint = {
      id: `ep_${randomBytes(12).toString('base64url')}`,
      url: input.url,
      events: input.events,
      description: input.description,
      enabled: true,
      secret: newSecret(),
      createdAt: new Date(this.#now()).toISOString(),
      consecutiveFailures: 0,
      missedEvents: 0,
    };
    // Its start is saved before it is answered: a crash right after still resumes from here, skipping nothing.
    const from = this.#host.position;
    await this.#host.storage.positions.save(consumerName(endpoint.id), from);
    await this.#store.saveEndpoint(endpoint);
    this.#endpoints.set(endpoint.id, endpoint);
    await this.#startWorker(endpoint, from.seq);
    // The host only: a URL's path or query may itself be a credential (chat services' incoming webhooks).
    this.#logger.info('webhook endpoint created', { endpoint: endpoint.id, host: new URL(endpoint.url).host });
    return ok({ ...this.#view(endpoint), secret: endpoint.secret });
  }

  /**
   * Change an endpoint; `enabled: true` resumes where it stopped.
   * @param id its id
   * @param patch a checked change
   */
  async #update(id: string, patch: EndpointPatch): Promise<Result<EndpointView>> {
    const endpoint = this.#endpoints.get(id);
    if (endpoint === undefined) return notFound(id);
    if (patch.url !== undefined) {
      const target = await this.#checkTarget(patch.url);
      if (!target.ok) return target;
      endpoint.url = patch.url;
    }
    if (patch.events !== undefined) endpoint.events = patch.events;
    if (patch.description !== undefined) endpoint.description = patch.description;
    if (patch.enabled === false && endpoint.enabled) await this.#stopWorker(endpoint, 'manual');
    if (patch.enabled === true && !endpoint.enabled) {
      endpoint.enabled = true;
      delete endpoint.disabledReason;
      endpoint.consecutiveFailures = 0;
      delete endpoint.failingSince;
    }
    await this.#store.saveEndpoint(endpoint);
    if (endpoint.enabled && !this.#workers.has(id)) await this.#startWorker(endpoint, this.#stoppedAt.get(id) ?? this.#host.position.seq);
    return ok(this.#view(endpoint));
  }

  /**
   * Delete an endpoint, its deliveries and its position.
   * @param id its id
   */
  async #remove(id: string): Promise<Result<void>> {
    const endpoint = this.#endpoints.get(id);
    if (endpoint === undefined) return notFound(id);
    this.#endpoints.delete(id);
    endpoint.enabled = false;
    const worker = this.#workers.get(id);
    this.#workers.delete(id);
    if (worker !== undefined) await this.#retire(worker);
    this.#stoppedAt.delete(id);
    clearTimeout(this.#countTimers.get(id));
    this.#countTimers.delete(id);
    this.#deliveries?.forget(id);
    // The position before the endpoint: a crash between leaves an endpoint that starts again from the head (it was being
    // deleted), where the other order would leave a position nothing ever deletes. A failure fails the request; the endpoint stays.
    await this.#forgetPosition(id);
    await this.#store.deleteEndpoint(id);
    this.#logger.info('webhook endpoint deleted', { endpoint: id });
    return ok(undefined);
  }

  /**
   * A new secret; the old one signs too for {@link ROTATION_OVERLAP_MS}.
   * @param id the endpoint
   */
  async #rotateSecret(id: string): Promise<Result<EndpointWithSecret>> {
    const endpoint = this.#endpoints.get(id);
    if (endpoint === undefined) return notFound(id);
    endpoint.previousSecret = { secret: endpoint.secret, until: this.#now() + ROTATION_OVERLAP_MS };
    endpoint.secret = newSecret();
    await this.#store.saveEndpoint(endpoint);
    this.#logger.info('webhook secret rotated', { endpoint: id });
    return ok({ ...this.#view(endpoint), secret: endpoint.secret });
  }

  /**
   * Send a `webhook.test` event now, once.
   * @param id the endpoint
   */
  async sendTest(id: string): Promise<Result<SendAnswer>> {
    await this.refresh();
    const endpoint = this.#endpoints.get(id);
    if (endpoint === undefined) return notFound(id);
    const at = new Date(this.#now()).toISOString();
    const delivery = this.#log().open(id, {
      id: `msg_test_${randomBytes(12).toString('base64url')}`,
      type: TEST_EVENT_TYPE,
      state: 'pending',
      attempts: [],
      body: JSON.stringify({ type: TEST_EVENT_TYPE, timestamp: at, data: { endpointId: id } }),
    });
    return ok(answer(delivery, await attemptDelivery(this.#attemptContext(), endpoint, delivery, 'test', undefined, true)));
  }

  /**
   * An endpoint's recent deliveries, newest first.
   * @param id the endpoint
   * @param limit at most this many
   */
  deliveries(id: string, limit: number): Result<Omit<Delivery, 'body'>[]> {
    if (!this.#endpoints.has(id)) return notFound(id);
    return ok(this.#log().list(id).slice(-limit).reverse().map(deliveryView));
  }

  /**
   * Send a delivery again now, once (whatever its state).
   * @param id the endpoint
   * @param deliveryId the delivery's `webhook-id`
   */
  async retry(id: string, deliveryId: string): Promise<Result<SendAnswer>> {
    await this.refresh();
    const endpoint = this.#endpoints.get(id);
    if (endpoint === undefined) return notFound(id);
    const delivery = this.#log().find(id, deliveryId);
    if (delivery === undefined) return fail(new ProtocolError('LO_ERR_NOT_FOUND', `No delivery ${deliveryId.slice(0, 100)} among the recent ones of endpoint ${id}`));
    const final = delivery.state !== 'pending';
    return ok(answer(delivery, await attemptDelivery(this.#attemptContext(), endpoint, delivery, 'manual', undefined, final)));
  }

  /**
   * With a shared history: re-read the endpoints and deliveries other
   * instances changed (a request on this instance sees them at once).
   * Nothing to do otherwise.
   */
  refresh(): Promise<void> {
    if (this.#shared === undefined || this.#closed) return Promise.resolve();
    return this.#locked(() => Promise.resolve());
  }

  /**
   * Run a change with no re-read running meanwhile (a re-read that loaded
   * before the change would undo it here), after a re-read of its own.
   * Without a shared store, just run it.
   */
  async #locked<T>(change: () => Promise<T>): Promise<T> {
    if (this.#shared === undefined) return change();
    const turn = this.#refreshing.catch(() => undefined).then(async () => {
      if (!this.#closed) await this.#reload();
      return change();
    });
    // The caller gets the failure; the chain only orders the turns (a rejected link nobody awaits would end the process).
    this.#refreshing = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #startShared(endpoints: readonly WebhookEndpoint[]): Promise<void> {
    const shared = this.#shared!;
    for (const endpoint of endpoints) this.#endpoints.set(endpoint.id, endpoint);
    this.#lease = new SenderLease({
      side: shared.side,
      positions: shared.positions,
      name: WEBHOOK_LEASE_NAME,
      logger: this.#logger,
      ...(shared.leaseTtlMs === undefined ? {} : { ttlMs: shared.leaseTtlMs }),
      onAcquired: async (positions) => {
        this.#fenced = positions;
        await this.refresh();
        for (const endpoint of this.#endpoints.values()) if (endpoint.enabled && !this.#workers.has(endpoint.id)) await this.#startSharedWorker(endpoint);
      },
      onLost: async () => {
        this.#fenced = undefined;
        const workers = [...this.#workers.values()];
        this.#workers.clear();
        await Promise.all(workers.map((worker) => this.#retire(worker)));
      },
    });
    this.#lease.start();
    const tick = (): void => {
      this.#refreshTimer = setTimeout(() => {
        this.refresh().catch((error: unknown) => this.#logger.warn('re-reading the webhook endpoints failed', { error })).finally(() => {
          if (!this.#closed) tick();
        });
      }, ENDPOINT_REFRESH_MS);
      this.#refreshTimer.unref();
    };
    tick();
  }

  /** Take what the shared store holds now; the sender starts and stops workers to match. */
  async #reload(): Promise<void> {
    const stored = await this.#store.load();
    const holder = this.#fenced !== undefined;
    // Every instance records the attempts it makes (the sender's, test sends, manual retries) and takes in the others'.
    this.#log().merge(stored.deliveries);
    const seen = new Set<string>();
    for (const fresh of stored.endpoints) {
      seen.add(fresh.id);
      const local = this.#endpoints.get(fresh.id);
      if (local === undefined) {
        this.#endpoints.set(fresh.id, fresh);
        if (holder && fresh.enabled) await this.#startSharedWorker(fresh);
        continue;
      }
      // The sender's own counts are newer than what it saved (they are saved a little later).
      const counts = holder ? { consecutiveFailures: local.consecutiveFailures, missedEvents: local.missedEvents, failingSince: local.failingSince } : undefined;
      replaceFields(local, fresh);
      if (counts !== undefined) {
        local.consecutiveFailures = counts.consecutiveFailures;
        local.missedEvents = counts.missedEvents;
        if (counts.failingSince === undefined) delete local.failingSince;
        else local.failingSince = counts.failingSince;
      }
      const worker = this.#workers.get(local.id);
      if (worker !== undefined && !local.enabled) {
        this.#workers.delete(local.id);
        await this.#retire(worker);
      } else if (holder && worker === undefined && local.enabled) await this.#startSharedWorker(local);
    }
    for (const [id, endpoint] of this.#endpoints) {
      if (seen.has(id)) continue;
      this.#endpoints.delete(id);
      endpoint.enabled = false;
      const worker = this.#workers.get(id);
      this.#workers.delete(id);
      if (worker !== undefined) await this.#retire(worker);
      clearTimeout(this.#countTimers.get(id));
      this.#countTimers.delete(id);
      this.#stoppedAt.delete(id);
      this.#deliveries?.forget(id);
      // Deleted on another instance, which deleted the position then; but a worker here (the sender now, or before it
      // lost the lease) may have saved it since. Each instance deletes it again once its own worker has stopped.
      await this.#forgetPosition(id).catch((error: unknown) => this.#logger.warn("deleting a deleted webhook endpoint's position failed", { endpoint: id, error }));
    }
    // Endpoints another instance sends to (or disabled ones): their backlog is counted from the position it saved.
    const positions = this.#shared!.positions;
    const idle = [...this.#endpoints.keys()].filter((id) => !this.#workers.has(id));
    const saved = await Promise.all(idle.map((id) => positions.load(consumerName(id))));
    idle.forEach((id, i) => {
      const at = saved[i];
      if (!this.#workers.has(id)) this.#stoppedAt.set(id, at !== undefined && at.epoch === this.#host.position.epoch ? at.seq : this.#host.position.seq);
    });
  }

  /** The sender starts an endpoint's worker from the position saved in the shared store. */
  async #startSharedWorker(endpoint: WebhookEndpoint): Promise<void> {
    const saved = await this.#shared!.positions.load(consumerName(endpoint.id));
    await this.#startWorker(endpoint, saved !== undefined && saved.epoch === this.#host.position.epoch ? saved.seq : this.#host.position.seq);
  }

  #log(): DeliveryLog {
    if (this.#deliveries === undefined) throw new Error('the webhook service was not started');
    return this.#deliveries;
  }

  #view(endpoint: WebhookEndpoint): EndpointView {
    const worker = this.#workers.get(endpoint.id);
    const backlog = worker !== undefined ? worker.backlog : this.#host.position.seq - (this.#stoppedAt.get(endpoint.id) ?? this.#host.position.seq);
    return endpointView(endpoint, backlog, this.#log().list(endpoint.id));
  }

  async #checkTarget(url: string): Promise<Result<void>> {
    try {
      await resolveTarget(new URL(url).hostname, this.#settings.allowPrivate);
      return ok(undefined);
    } catch (error) {
      if (!(error instanceof RefusedAddressError)) throw error;
      return fail(new ProtocolError('LO_ERR_WEBHOOK_TARGET', `The webhook URL is refused: ${error.message}`, { errors: [{ field: 'url', message: error.message }] }));
    }
  }

  #attemptContext(): AttemptContext {
    return {
      settings: this.#settings,
      deliveries: this.#log(),
      sender: this.#sender,
      saveEndpoint: (endpoint) => this.#saveCountsSoon(endpoint),
      now: this.#now,
      ...(this.#onAttempt === undefined ? {} : { onAttempt: this.#onAttempt }),
    };
  }

  async #startWorker(endpoint: WebhookEndpoint, lastSeq: number): Promise<void> {
    if (this.#closed) return;
    // Deleted or disabled meanwhile (a start waits for the position it starts from).
    if (this.#endpoints.get(endpoint.id) !== endpoint || !endpoint.enabled) return;
    // With a shared history only the lease holder sends; another one learns of the endpoint on its next re-read.
    if (this.#shared !== undefined && this.#fenced === undefined) return;
    if (this.#workers.has(endpoint.id)) return;
    this.#stoppedAt.delete(endpoint.id);
    const ctx: WorkerContext = {
      ...this.#attemptContext(),
      host: this.#host,
      ...(this.#fenced === undefined ? {} : { positions: this.#fenced, holding: () => this.#lease?.held === true }),
      disable: (target, reason) => void this.#stopWorker(target, reason).catch((error: unknown) => this.#logger.error('disabling a webhook endpoint failed', { endpoint: target.id, error })),
      onMissed: (target, missed) => {
        target.missedEvents += missed;
        this.#saveCountsSoon(target);
        this.#logger.error('a webhook endpoint fell so far behind that the history no longer held some of its events', { endpoint: target.id, missed });
      },
    };
    this.#sender.prepare();
    const worker = new EndpointWorker(ctx, endpoint, lastSeq);
    this.#workers.set(endpoint.id, worker);
    await worker.start();
  }

  /** Disable an endpoint and stop its consumer; its position stays, so re-enabling resumes there. */
  async #stopWorker(endpoint: WebhookEndpoint, reason: DisabledReason): Promise<void> {
    if (!endpoint.enabled && endpoint.disabledReason !== undefined) return;
    endpoint.enabled = false;
    endpoint.disabledReason = reason;
    if (reason !== 'manual') this.#logger.warn('webhook endpoint disabled', { endpoint: endpoint.id, reason });
    const worker = this.#workers.get(endpoint.id);
    this.#workers.delete(endpoint.id);
    if (worker !== undefined) {
      this.#stoppedAt.set(endpoint.id, worker.lastSeq);
      await this.#retire(worker);
      // Not for an endpoint deleted meanwhile: its entry would never be removed.
      if (this.#endpoints.has(endpoint.id)) this.#stoppedAt.set(endpoint.id, worker.lastSeq);
    }
    if (this.#endpoints.has(endpoint.id)) await this.#store.saveEndpoint(endpoint);
  }

  /**
   * Stop a worker, noting it until it has stopped (its last batch's position saved), so that
   * {@link WebhookService.#forgetPosition} waits for it whichever path stopped it (a disable, a lost lease).
   * @param worker a worker no longer in {@link WebhookService.#workers}
   */
  async #retire(worker: EndpointWorker): Promise<void> {
    const id = worker.endpoint.id;
    const stopping = Promise.all([this.#stopping.get(id), worker.stop()]).then(() => undefined);
    this.#stopping.set(id, stopping);
    try {
      await stopping;
    } finally {
      if (this.#stopping.get(id) === stopping) this.#stopping.delete(id);
    }
  }

  /**
   * Delete a deleted endpoint's position, once no worker of it here can save it again (stop, then delete).
   * Through the storage's positions, not the lease holder's fenced ones: a delete is made by whichever
   * instance answered the request (or saw the endpoint gone), holder or not, and cannot hurt a holder:
   * its positions are of endpoints that exist.
   * @param id the endpoint
   */
  async #forgetPosition(id: string): Promise<void> {
    await this.#stopping.get(id);
    await (this.#shared?.positions ?? this.#host.storage.positions).delete(consumerName(id));
  }

  /** Save an endpoint's counts a little later, together with the changes that follow. */
  #saveCountsSoon(endpoint: WebhookEndpoint): void {
    if (this.#countTimers.has(endpoint.id) || this.#closed) return;
    const timer = setTimeout(() => {
      this.#countTimers.delete(endpoint.id);
      // Shared: take other instances' changes (a new URL, a delete) first, so the save does not undo them.
      this.refresh()
        .then(() => (this.#endpoints.has(endpoint.id) ? this.#store.saveEndpoint(endpoint) : undefined))
        .catch((error: unknown) => this.#logger.error('saving a webhook endpoint failed', { endpoint: endpoint.id, error }));
    }, COUNTS_SAVE_DELAY_MS);
    timer.unref();
    this.#countTimers.set(endpoint.id, timer);
  }
}

/** Make `local` what `fresh` is, in place (workers hold the object). */
function replaceFields(local: WebhookEndpoint, fresh: WebhookEndpoint): void {
  const target = local as unknown as Record<string, unknown>;
  for (const key of Object.keys(target)) if (!(key in fresh)) delete target[key];
  Object.assign(target, fresh);
}

function notFound(id: string): Result<never> {
  return fail(new ProtocolError('LO_ERR_NOT_FOUND', `No webhook endpoint ${id.slice(0, 100)}`));
}

function answer(delivery: Delivery, result: AttemptResult): SendAnswer {
  const delivered = result.status !== null && result.status >= 200 && result.status < 300;
  return { id: delivery.id, delivered, status: result.status, ...(result.error === undefined ? {} : { error: result.error }), durationMs: result.durationMs };
}
