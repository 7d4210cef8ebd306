/**
 * CPU per status change in the store alone, at a given store size (figure 6).
 * A change is decided, appended to the memory log and applied to the
 * projection, which takes the order's id out of one status index and puts it
 * into another; this measures that without HTTP around it, whose cost does
 * not depend on the store's size and over loopback hides a 100 µs
 * difference in noise. Forked by bench/run.ts (with --expose-gc); command
 * over IPC: statusChanges.
 */

import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { startCore } from '../src/node.ts';
import { memoryStorage } from '../src/store.ts';
import { serve } from './ipc.ts';
import { seedOrders } from './seed.ts';

/**
 * CPU time (user + system) per status change, in µs, in a fresh store of
 * `size` orders: `count` pending orders spread evenly over it move to processing.
 * @param size orders in the store
 * @param count status changes (at most `size`)
 */
export async function cpuPerStatusChange(size: number, count: number): Promise<number> {
  const { commands } = startCore(memoryStorage(), { newId: createOrderIdGenerator() });
  const ids = await seedOrders(commands, size);
  const step = ids.length / count;
  const moving = Array.from({ length: count }, (_, i) => ids[Math.floor(i * step)]!);
  // Seeding leaves garbage and may have started a major GC: finish it before measuring.
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  for (const id of moving) {
    if (!(await commands.changeStatus(id, 'processing')).ok) throw new Error(`could not move ${id}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

serve({ statusChanges: ({ size, count }) => cpuPerStatusChange(Number(size), Number(count)) }, {});
