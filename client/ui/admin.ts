/**
 * @module client/ui/admin
 * The admin panel: what the server is doing now, from `GET /api/stats` (the
 * board polls it already): connections by role, events per second, slow
 * clients dropped, and the storage's health. Shown to admins only (open
 * mode counts as admin). Each row reads its own fields and shows "–" for
 * what this server does not report; a new kind of health (webhook or email
 * deliveries, once they exist) is one more entry in {@link ADMIN_ROWS}.
 */

import { WATCHER_KINDS } from '../../src/protocol.ts';
import { count, requireElement, textElement } from './dom.ts';

/** What a row is computed from: the stats answer and the event rate the board worked out. */
export interface AdminReading {
  readonly stats: Readonly<Record<string, unknown>>;
  readonly eventsPerSecond: number | undefined;
}

/** One row of the panel: a label and its value, or undefined when the server does not report it. */
interface AdminRow {
  readonly key: string;
  readonly label: string;
  readonly value: (reading: AdminReading) => string | undefined;
}

/** The rows, in order. */
export const ADMIN_ROWS: readonly AdminRow[] = [
  {
    key: 'connections',
    label: 'Connections by role',
    value: ({ stats }) => {
      const byRole = record(stats.connectionsByRole);
      if (byRole === undefined) return undefined;
      return WATCHER_KINDS.map((k) => {
        const n = numberOr0(byRole[k]);
        return `${count(n)} ${n === 1 ? k : `${k}s`}`;
      }).join(' · ');
    },
  },
  {
    key: 'rate',
    label: 'Events per second',
    value: ({ eventsPerSecond }) => (eventsPerSecond === undefined ? undefined : eventsPerSecond.toLocaleString(undefined, { maximumFractionDigits: 1 })),
  },
  {
    key: 'slow',
    label: 'Slow clients dropped',
    value: ({ stats }) => (typeof stats.slowSubscribersDropped === 'number' ? count(stats.slowSubscribersDropped) : undefined),
  },
  {
    key: 'storage',
    label: 'Storage',
    value: ({ stats }) => storageHealth(record(stats.storage)),
  },
];

/** The panel. */
export interface AdminPanel {
  /**
   * Show a reading, or hide the panel (not an admin, or stats unavailable).
   * @param reading the latest reading, if any
   */
  show(reading: AdminReading | undefined): void;
}

/**
 * Build the panel over `#admin`.
 * @param doc the document
 */
export function createAdminPanel(doc: Document): AdminPanel {
  const root = requireElement<HTMLElement>(doc, '#admin');
  const list = requireElement<HTMLDListElement>(root, '#admin-numbers');
  const values = new Map<string, HTMLElement>();
  for (const row of ADMIN_ROWS) {
    const dd = textElement(doc, 'dd', '–');
    dd.dataset.admin = row.key;
    const holder = doc.createElement('div');
    holder.append(textElement(doc, 'dt', row.label), dd);
    list.append(holder);
    values.set(row.key, dd);
  }
  return {
    show(reading) {
      const isAdmin = reading !== undefined && reading.stats.caller === 'admin';
      root.hidden = !isAdmin;
      if (!isAdmin) return;
      for (const row of ADMIN_ROWS) {
        const text = row.value(reading) ?? '–';
        const dd = values.get(row.key)!;
        if (dd.textContent !== text) dd.textContent = text;
      }
    },
  };
}

/**
 * The storage's health in a line: the backend, whether it takes writes,
 * and its own numbers (journal size and last compaction, or Redis's link).
 * @param storage the `storage` object of the stats answer
 */
export function storageHealth(storage: Record<string, unknown> | undefined): string | undefined {
  if (storage === undefined || typeof storage.mode !== 'string') return undefined;
  const failure = record(storage.failure);
  const parts: string[] = [storage.mode];
  if (failure !== undefined) parts.push(`failing (${String(failure.code ?? 'error')}${typeof failure.since === 'string' ? ` since ${timeOf(failure.since)}` : ''})`);
  switch (storage.mode) {
    case 'journal': {
      if (typeof storage.journalBytes === 'number') parts.push(`journal ${bytes(storage.journalBytes)}`);
      const compaction = record(storage.lastCompaction);
      parts.push(compaction !== undefined && typeof compaction.at === 'string' ? `last compaction ${timeOf(compaction.at)}` : 'not compacted since start');
      break;
    }
    case 'redis':
      if (storage.connected === true) parts.push('connected');
      else parts.push(typeof storage.offlineSince === 'string' ? `disconnected since ${timeOf(storage.offlineSince)}` : 'disconnected');
      if (storage.staleReads === true) parts.push('reads may be stale');
      break;
    case 'memory':
      parts.push('not durable: a restart loses every order');
      break;
  }
  if (failure === undefined) parts.splice(1, 0, 'healthy');
  return parts.join(', ');
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function bytes(n: number): string {
  if (n < 1024) return `${count(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} KiB`;
  return `${(n / 1024 / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} MiB`;
}

function timeOf(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleTimeString();
}
