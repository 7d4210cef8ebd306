/**
 * @module store/with-seq
 * The event a committed change becomes: shared by every backend, so none
 * of them imports another.
 */

import type { Change } from '../domain/decide.ts';
import type { OrderEvent } from '../protocol/orders.ts';

/**
 * An event with its seq: the change's own fields, in wire order (type, seq,
 * order, previousStatus), so its JSON matches what encodeEvent writes.
 * @param change a decided change
 * @param seq the seq the log gave it
 */
export function withSeq(change: Change, seq: number): OrderEvent {
  return change.type === 'order.updated'
    ? { type: change.type, seq, order: change.order, previousStatus: change.previousStatus }
    : { type: change.type, seq, order: change.order };
}
