/**
 * @module notify/webhooks/delivery-log
 * Each endpoint's recent deliveries with their attempts, newest last,
 * bounded, kept in the webhook store. Saving is debounced: the list is
 * what people look at; what was delivered is decided by the consumer
 * positions, saved after every batch. With a store shared by instances,
 * each saves the deliveries it changed and takes in what the others saved
 * ({@link DeliveryLog.merge}, {@link mergeDelivery}): a delivery's copies are merged by id, their
 * attempts joined, so a test send or manual retry made on any instance
 * stays in the list.
 */

import type { Logger } from '../../support/logger.ts';
import { KEPT_ATTEMPTS, KEPT_DELIVERIES, mergeDelivery } from './delivery-merge.ts';
import type { Delivery, DeliveryAttempt } from './model.ts';
import type { WebhookStore } from './store.ts';

/** How long changes wait to be saved together, in milliseconds. */
const SAVE_DELAY_MS = 250;

/** Every endpoint's recent deliveries. */
export class DeliveryLog {
  readonly #store: WebhookStore;
  readonly #logger: Logger;
  readonly #lists = new Map<string, Delivery[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Per endpoint, the deliveries changed since its last save. */
  readonly #dirty = new Map<string, Set<string>>();

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
    this.#changed(endpointId, fresh.id);
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
    this.#changed(endpointId, delivery.id);
  }

  /**
   * Take in what the store holds now (saved by other instances too): a
   * delivery kept here and there is merged ({@link mergeDelivery}) into
   * the copy here; one only there is added in the store's order; one only
   * here stays where it was (not saved yet, or no longer kept there).
   * @param stored every endpoint's deliveries as loaded, oldest first
   */
  merge(stored: ReadonlyMap<string, readonly Delivery[]>): void {
    for (const [endpointId, theirs] of stored) {
      const ours = this.#lists.get(endpointId) ?? [];
      const ourIndex = new Map(ours.map((delivery, i) => [delivery.id, i]));
      const theirIds = new Set(theirs.map((delivery) => delivery.id));
      const merged: Delivery[] = [];
      let cursor = 0;
      // Ours that they lack come before the next one both have, as they came here.
      const ownUpTo = (end: number): void => {
        for (; cursor < end; cursor++) if (!theirIds.has(ours[cursor]!.id)) merged.push(ours[cursor]!);
      };
      for (const delivery of theirs) {
        const i = ourIndex.get(delivery.id);
        if (i === undefined) {
          merged.push(delivery);
          continue;
        }
        ownUpTo(i);
        cursor = Math.max(cursor, i + 1);
        mergeDelivery(ours[i]!, delivery);
        merged.push(ours[i]!);
      }
      ownUpTo(ours.length);
      if (merged.length > KEPT_DELIVERIES) merged.splice(0, merged.length - KEPT_DELIVERIES);
      this.#lists.set(endpointId, merged);
    }
  }

  /**
   * Forget an endpoint's deliveries (it was deleted).
   * @param endpointId the endpoint
   */
  forget(endpointId: string): void {
    clearTimeout(this.#timers.get(endpointId));
    this.#timers.delete(endpointId);
    this.#lists.delete(endpointId);
    this.#dirty.delete(endpointId);
  }

  /** Save every list with changes now. */
  async flush(): Promise<void> {
    const waiting = [...this.#timers.keys()];
    for (const id of waiting) clearTimeout(this.#timers.get(id));
    this.#timers.clear();
    await Promise.all(waiting.map((id) => this.#save(id)));
  }

  #changed(endpointId: string, deliveryId: string): void {
    const dirty = this.#dirty.get(endpointId) ?? new Set<string>();
    dirty.add(deliveryId);
    this.#dirty.set(endpointId, dirty);
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
    const dirty = this.#dirty.get(endpointId);
    this.#dirty.delete(endpointId);
    if (list === undefined) return;
    const changed = dirty === undefined ? [] : list.filter((delivery) => dirty.has(delivery.id));
    try {
      await this.#store.saveDeliveries(endpointId, list, changed);
    } catch (error) {
      // Saved with the next change.
      const again = this.#dirty.get(endpointId) ?? new Set<string>();
      for (const delivery of changed) again.add(delivery.id);
      if (this.#lists.has(endpointId)) this.#dirty.set(endpointId, again);
      this.#logger.error('saving webhook deliveries failed', { endpoint: endpointId, error });
    }
  }
}
