/**
 * @module client/ui/connection
 * The connection indicator (`Live`, `Reconnecting in Ns` with a Retry button,
 * `Offline`), shared by the board and the customer tracking page.
 */

import type { ConnectionStatus } from '../connection.ts';
import { requireElement } from './dom.ts';

/** How often the countdown is redrawn, in milliseconds. */
const COUNTDOWN_TICK_MS = 250;

/** The indicator. */
export interface ConnectionIndicator {
  show(status: ConnectionStatus): void;
}

/**
 * Build the indicator over `#connection`.
 * @param doc the document
 * @param onRetry called when the user asks to reconnect now
 */
export function createConnectionIndicator(doc: Document, onRetry: () => void): ConnectionIndicator {
  const root = requireElement<HTMLElement>(doc, '#connection');
  const text = requireElement<HTMLElement>(root, '#connection-text');
  const retry = requireElement<HTMLButtonElement>(root, '#retry');
  retry.addEventListener('click', onRetry);
  let countdown: ReturnType<typeof setInterval> | undefined;

  return {
    show(status) {
      clearInterval(countdown);
      root.dataset.state = status.kind;
      retry.hidden = status.kind !== 'waiting' && status.kind !== 'offline';
      switch (status.kind) {
        case 'connecting':
          text.textContent = status.attempt === 0 ? 'Connecting…' : 'Reconnecting…';
          break;
        case 'open':
          text.textContent = 'Live';
          break;
        case 'offline':
          text.textContent = 'Offline';
          break;
        case 'waiting': {
          const tick = (): void => {
            const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
            text.textContent = `Reconnecting in ${seconds}s`;
          };
          tick();
          countdown = setInterval(tick, COUNTDOWN_TICK_MS);
          break;
        }
      }
    },
  };
}
