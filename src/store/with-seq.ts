/**
 * @module store/with-seq
 * The event a committed change becomes: shared by every backend, so none
 * of them imports another.
 */

import type { Change } from '../domain/decide.ts';
import type { LogEvent } from '../domain/events.ts';

/**
 * An event with its seq: the change's own fields, in wire order (type, seq,
 * order, previousStatus, products), so its JSON matches what encodeEvent writes.
 * @param change a decided change
 * @param seq the seq the log gave it
 */
export function withSeq(change: Change, seq: number): LogEvent {
  switch (change.type) {
    case 'product.changed':
    case 'product.deleted':
      return { type: change.type, seq, product: change.product };
    case 'order.updated':
      return change.products === undefined
        ? { type: change.type, seq, order: change.order, previousStatus: change.previousStatus }
        : { type: change.type, seq, order: change.order, previousStatus: change.previousStatus, products: change.products };
    default:
      return change.products === undefined ? { type: change.type, seq, order: change.order } : { type: change.type, seq, order: change.order, products: change.products };
  }
}
