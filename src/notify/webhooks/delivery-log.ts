/**
 * @module notify/webhooks/delivery-log
 * Each endpoint's recent deliveries with their attempts, newest last,
 * bounded, kept in the webhook store. Saving is debounced: the list is
 * what people look at; what was delivered is decided by the consumer
 * positions, saved after every batch.
 */

import type { Logger } from '../../support/logger.ts';
import type { Delivery, DeliveryAttempt } from './model.ts';
import type { WebhookStore } from './store.ts';

/** Deliveries kept per endpoint. */
export const KEPT_DELIVERIES = 100;

/** Attempts kept per delivery (the first ones and the latest). */
const KEPT_ATTEMPTS = 20;

/** How long changes wait to be saved together, in milliseconds. */
const SAVE_DELAY_MS = 250;

/** Every endpoint's recent deliveries. */
export class DeliveryLog {
  readonly #store: WebhookStore;
  readonly #logger: Logger;
  readonly #lists = new Map<string, Delivery[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /**
   * @param store where they are kept
   * @param logger told when saving fails
   * @param loaded what the store held at start
   */
  constructor(store: WebhookStore, logger: Logger, loaded: ReadonlyMap<string, readonly Delivery[]>) {
    this.#store = store;
    this.#logger = logger;
    for (const [id, list] of loaded) this.#lists.set(id, [...list]);
  }

  /**
   * An endpoint's deliveries, oldest first.
   * @param endpointId the endpoint
   */
  list(endpointId: string): readonly Delivery[] {
    return this.#lists.get(endpointId) ?? [];
  }

  /**
   * A delivery by its `webhook-id`.
   * @param endpointId the endpoint
   * @param id the delivery
   */
  find(endpointId: string, id: string): Delivery | undefined {
    return this.#lists.get(endpointId)?.find((delivery) => delivery.id === id);
  }

  /**
   * The delivery with this id, or a new pending one.
   * @param endpointId the endpoint
   * @param fresh the delivery to add when there is none with its id
   */
  open(endpointId: string, fresh: Delivery): Delivery {
    const found = this.find(endpointId, fresh.id);
    if (found !== undefined) return found;
    const list = this.#lists.get(endpointId) ?? [];
    list.push(fresh);
    if (list.length > KEPT_DELIVERIES) list.splice(0, list.length - KEPT_DELIVERIES);
    this.#lists.set(endpointId, list);
    this.#changed(endpointId);
    return fresh;
  }

  /**
   * Add an attempt and set the state.
   * @param endpointId the endpoint
   * @param delivery the delivery
   * @param attempt how it went
   * @param state the delivery's state after it
   */
  record(endpointId: string, delivery: Delivery, attempt: DeliveryAttempt, state: Delivery['state']): void {
    delivery.attempts.push(attempt);
    if (delivery.attempts.length > KEPT_ATTEMPTS) delivery.attempts.splice(KEPT_ATTEMPTS / 2, 1);
    delivery.state = state;
    this.#changed(endpointId);
  }

  /**
   * Forget an endpoint's deliveries (it was deleted).
   * @param endpointId the endpoint
   */
  forget(endpointId: string): void {
    clearTimeout(this.#timers.get(endpointId));
    this.#timers.delete(endpointId);
    this.#lists.delete(endpointId);
  }

  /** Save every list with changes now. */
  async flush(): Promise<void> {
    const waiting = [...this.#timers.keys()];
    for (const id of waiting) clearTimeout(this.#timers.get(id));
    this.#timers.clear();
    await Promise.all(waiting.map((id) => this.#save(id)));
  }

  #changed(endpointId: string): void {
    if (this.#timers.has(endpointId)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(endpointId);
      void this.#save(endpointId);
    }, SAVE_DELAY_MS);
    timer.unref();
    this.#timers.set(endpointId, timer);
  }

  async #save(endpointId: string): Promise<void> {
    const list = this.#lists.get(endpointId);
    if (list === undefined) return;
    try {
      await this.#store.saveDeliveries(endpointId, list);
    } catch (error) {
      this.#logger.error('saving webhook deliveries failed', { endpoint: endpointId, error });
    }
  }
}
