/**
 * @module client/ui/presence
 * The "watching" line of the order detail: how many watch the order now, by
 * role (this page's own socket included), as the server counts them.
 */

import { WATCHER_KINDS, type PresenceCounts, type WatcherKind } from '../../src/protocol.ts';
import { count, requireElement } from './dom.ts';

const NOUNS: Readonly<Record<WatcherKind, readonly [one: string, many: string]>> = {
  admin: ['admin', 'admins'],
  operator: ['operator', 'operators'],
  viewer: ['viewer', 'viewers'],
  customer: ['customer', 'customers'],
};

/**
 * `Watching: 1 operator, 2 customers`; kinds nobody is are left out.
 * @param counts the server's counts
 */
export function presenceText(counts: PresenceCounts): string {
  const parts = WATCHER_KINDS.filter((k) => counts[k] > 0).map((k) => `${count(counts[k])} ${NOUNS[k][counts[k] === 1 ? 0 : 1]}`);
  return `Watching: ${parts.length === 0 ? 'nobody' : parts.join(', ')}`;
}

/** The line in the detail dialog. */
export interface PresenceLine {
  /** Show counts; undefined hides the line (closed, or not known). */
  show(counts: PresenceCounts | undefined): void;
}

/**
 * Build the line over `#detail-presence`.
 * @param doc the document
 */
export function createPresenceLine(doc: Document): PresenceLine {
  const line = requireElement<HTMLElement>(doc, '#detail-presence');
  return {
    show(counts) {
      const text = counts === undefined ? '' : presenceText(counts);
      // Unchanged text is not written again: the line is a polite live region.
      if (line.textContent !== text) line.textContent = text;
      line.hidden = counts === undefined;
    },
  };
}
