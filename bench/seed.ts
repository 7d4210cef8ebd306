/** The orders the benchmarks fill a store with before measuring (figures 4, 4b, 6). */

import type { OrderStore } from '../src/store.ts';

const SEED_ITEMS = [{ name: 'widget', quantity: 2, price: 9.99 }, { name: 'cable', quantity: 1 }];

/**
 * Create `n` pending orders in `store`.
 * @param store the store to fill
 * @param n how many orders
 * @returns their ids, oldest first
 */
export function seedOrders(store: OrderStore, n: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = store.create({ customerName: `Seeded customer ${i}`, items: SEED_ITEMS });
    if (created.ok) ids.push(created.value.order.id);
  }
  return ids;
}
