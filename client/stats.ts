/**
 * @module client/stats
 * The board's live numbers: polls `GET /api/stats` at a modest rate, only
 * while the tab is visible, and turns the growth of the server's `seq`
 * between two polls into events per second. A poll with no rate yet (the
 * first, or the first after a failure) is followed quickly by another, and
 * the page asks for one at once when its socket is back.
 */

import { getStats, type ServerStats } from './api.ts';

/** How often the numbers are fetched while the tab is visible, in milliseconds. */
export const STATS_POLL_MS = 2000;
/** After a poll that gave no rate (nothing to compare with), the next one comes this soon. */
export const STATS_FIRST_RATE_MS = 500;

/** What the panel shows. */
export interface StatsReading {
  readonly connections: number;
  readonly seq: number;
  /** Undefined until two polls of the same server run are known. */
  readonly eventsPerSecond: number | undefined;
  /** The history `seq` belongs to: a seq from the stream compares with it only under the same epoch. */
  readonly epoch: string;
  /** The whole answer (the admin panel shows more of it). */
  readonly stats: ServerStats;
}

/** A running poll. */
export interface StatsPoller {
  /** Poll now (e.g. the socket is back after an outage) rather than at the next tick. */
  refresh(): void;
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
export function pollStats(onReading: (reading: StatsReading | undefined) => void): StatsPoller {
  let previous: Sample | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  /** A refresh asked for while a poll was on its way: its answer may predate what the caller knows. */
  let again = false;
  const poll = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    const result = await getStats();
    polling = false;
    let rateKnown = false;
    if (result.ok) {
      const sample = { stats: result.value, at: performance.now() };
      const rate = eventsPerSecond(previous, sample);
      rateKnown = rate !== undefined;
      onReading({ connections: sample.stats.connections, seq: sample.stats.seq, eventsPerSecond: rate, epoch: sample.stats.epoch, stats: sample.stats });
      previous = sample;
    } else {
      onReading(undefined);
      previous = undefined;
    }
    if (again) {
      again = false;
      return poll();
    }
    schedule(result.ok && !rateKnown ? STATS_FIRST_RATE_MS : STATS_POLL_MS);
  };
  const schedule = (delay: number): void => {
    if (timer === undefined && !polling && document.visibilityState === 'visible') timer = setTimeout(() => void poll(), delay);
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
  return { refresh: () => void poll() };
}
