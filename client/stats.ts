/**
 * @module client/stats
 * The board's live numbers: polls `GET /api/stats` at a modest rate, only
 * while the tab is visible, and turns the growth of the server's `seq`
 * between two polls into events per second.
 */

import { getStats, type ServerStats } from './api.ts';

/** How often the numbers are fetched while the tab is visible, in milliseconds. */
export const STATS_POLL_MS = 2000;

/** What the panel shows. */
export interface StatsReading {
  readonly connections: number;
  readonly seq: number;
  /** Undefined until two polls of the same server run are known. */
  readonly eventsPerSecond: number | undefined;
  /** The whole answer (the admin panel shows more of it). */
  readonly stats: ServerStats;
}

/** One poll's result, as kept between polls. */
interface Sample {
  readonly stats: Pick<ServerStats, 'seq' | 'epoch'>;
  readonly at: number;
}

/**
 * Events per second between two samples; undefined across a server restart or with no time between them.
 * @param previous the earlier sample
 * @param next the later sample
 */
export function eventsPerSecond(previous: Sample | undefined, next: Sample): number | undefined {
  if (previous === undefined || previous.stats.epoch !== next.stats.epoch || next.at <= previous.at) return undefined;
  return (Math.max(0, next.stats.seq - previous.stats.seq) * 1000) / (next.at - previous.at);
}

/**
 * Poll while the tab is visible; `onReading(undefined)` when a poll fails.
 * @param onReading receives each reading
 */
export function pollStats(onReading: (reading: StatsReading | undefined) => void): void {
  let previous: Sample | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  const poll = async (): Promise<void> => {
    timer = undefined;
    if (polling) return;
    polling = true;
    const result = await getStats();
    polling = false;
    if (result.ok) {
      const sample = { stats: result.value, at: performance.now() };
      onReading({ connections: sample.stats.connections, seq: sample.stats.seq, eventsPerSecond: eventsPerSecond(previous, sample), stats: sample.stats });
      previous = sample;
    } else {
      onReading(undefined);
      previous = undefined;
    }
    schedule();
  };
  const schedule = (): void => {
    if (timer === undefined && !polling && document.visibilityState === 'visible') timer = setTimeout(() => void poll(), STATS_POLL_MS);
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') {
      clearTimeout(timer);
      timer = undefined;
      previous = undefined; // a rate across the hidden time would mean little
      return;
    }
    if (timer === undefined) void poll();
  });
  void poll();
}
