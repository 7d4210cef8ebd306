/** The orders the benchmarks fill a store with before measuring (figures 4, 4b, 6). */

import type { Commands } from '../src/store.ts';

const SEED_ITEMS = [{ name: 'widget', quantity: 2, price: 9.99 }, { name: 'cable', quantity: 1 }];

/** Creates in flight at once while seeding. */
const SEED_CONCURRENCY = 256;

/**
 * Create `n` pending orders through the one write path.
 * @param commands where to create them
 * @param n how many orders
 * @returns their ids, oldest first
 */
export async function seedOrders(commands: Commands, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let first = 0; first < n; first += SEED_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SEED_CONCURRENCY, n - first) }, (_, i) =>
      commands.create({ customerName: `Seeded customer ${first + i}`, items: SEED_ITEMS }),
    );
    for (const created of await Promise.all(batch)) if (created.ok) ids.push(created.value.order.id);
  }
  return ids;
}
