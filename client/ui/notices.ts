/**
 * @module client/ui/notices
 * What the page tells the user outside the board: short-lived toasts, the
 * polite live region screen readers hear, and a banner that stays until
 * dismissed (for news such as "the server's data was reset").
 */

import { requireElement, textElement, textNodes } from './dom.ts';

/** How long a toast stays, in milliseconds. */
const TOAST_MS = 4000;
/** Toasts shown at once; older ones go first. */
const TOASTS_MAX = 4;

/** Toasts, announcements and the banner. */
export interface Notices {
  toast(text: string, kind?: 'info' | 'error'): void;
  /** Say something to screen readers (the caller throttles). */
  announce(text: string): void;
  /** Show the banner until the user dismisses it. */
  banner(text: string): void;
}

/**
 * Build the notices over `#toasts`, `#announcer` and `#notice`.
 * @param doc the document
 */
export function createNotices(doc: Document): Notices {
  const toasts = requireElement<HTMLElement>(doc, '#toasts');
  const announcer = requireElement<HTMLElement>(doc, '#announcer');
  const notice = requireElement<HTMLElement>(doc, '#notice');
  const noticeText = requireElement<HTMLElement>(notice, '#notice-text');
  requireElement<HTMLButtonElement>(notice, '#notice-dismiss').addEventListener('click', () => {
    notice.hidden = true;
  });

  function announce(text: string): void {
    // Replacing the text of an aria-live region is what screen readers announce.
    announcer.replaceChildren(...textNodes(doc, text));
  }

  return {
    toast(text, kind = 'info') {
      const item = textElement(doc, 'div', text, `toast ${kind}`);
      toasts.append(item);
      while (toasts.children.length > TOASTS_MAX) toasts.firstElementChild?.remove();
      setTimeout(() => item.remove(), TOAST_MS);
      if (kind === 'error') announce(text);
    },
    announce,
    banner(text) {
      noticeText.textContent = text;
      notice.hidden = false;
    },
  };
}
