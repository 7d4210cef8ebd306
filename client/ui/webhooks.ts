/**
 * @module client/ui/webhooks
 * The admin's Webhooks panel: each endpoint with its state (enabled, or
 * disabled and why), backlog and last attempts' status codes; add,
 * disable or enable, delete, and retry the last failed delivery. A new
 * endpoint's secret is shown once, with a copy button. Refreshed while
 * the admin panel is shown.
 */

import { adminCall } from '../api.ts';
import { requireElement, textElement } from './dom.ts';
import { copyText } from './share.ts';

/** An endpoint as the panel reads it from `GET /api/webhooks` (fields checked one by one). */
interface EndpointRow {
  readonly id: string;
  readonly url: string;
  readonly enabled: boolean;
  readonly disabledReason: string | undefined;
  readonly backlog: number;
  readonly attempts: readonly { readonly id: string; readonly state: string; readonly status: number | null }[];
}

/** The panel. */
export interface WebhooksPanel {
  /** Shown or hidden; called after each stats reading, when the list is read again if it is due. */
  setShown(shown: boolean): void;
}

/**
 * How often the list is read again while shown, at most, in milliseconds. It is read right after a stats
 * answer, on the connection that answer came on, rather than on a timer of its own that would open another.
 */
const REFRESH_MS = 2000;

/**
 * Build the panel over `#webhooks`.
 * @param doc the document
 */
export function createWebhooksPanel(doc: Document): WebhooksPanel {
  const form = requireElement<HTMLFormElement>(doc, '#webhook-form');
  const urlInput = requireElement<HTMLInputElement>(doc, '#webhook-url');
  const secretBox = requireElement<HTMLElement>(doc, '#webhook-secret');
  const secretValue = requireElement<HTMLElement>(doc, '#webhook-secret-value');
  const copyButton = requireElement<HTMLButtonElement>(doc, '#webhook-secret-copy');
  const status = requireElement<HTMLElement>(doc, '#webhook-status');
  const list = requireElement<HTMLUListElement>(doc, '#webhook-list');
  let lastRead = Number.NEGATIVE_INFINITY;

  const say = (text: string): void => {
    status.textContent = text;
  };
  const refresh = async (): Promise<void> => {
    const result = await adminCall('GET', '/api/webhooks');
    if (!result.ok) return say(`Could not read the webhooks: ${result.error.detail}`);
    render(doc, list, Array.isArray(result.value) ? result.value.map(toRow).filter((row): row is EndpointRow => row !== undefined) : []);
  };
  const act = async (method: string, path: string, body: unknown, done: string): Promise<void> => {
    const result = await adminCall(method, path, body);
    say(result.ok ? done : `${done.split(':')[0]} failed: ${result.error.detail}`);
    await refresh();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const result = await adminCall('POST', '/api/webhooks', { url: urlInput.value.trim() });
      if (!result.ok) return say(`Could not add the endpoint: ${result.error.detail}`);
      const secret = (result.value as { secret?: unknown }).secret;
      secretValue.textContent = typeof secret === 'string' ? secret : '';
      secretBox.hidden = typeof secret !== 'string';
      urlInput.value = '';
      say('Endpoint added. Copy its secret now: it is not shown again.');
      await refresh();
    })();
  });
  copyButton.addEventListener('click', () => copyText(secretValue.textContent ?? '', (copied) => say(copied ? 'Secret copied.' : 'The browser did not let the page copy: select the secret and copy it by hand.')));
  list.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-webhook-action]');
    const id = button?.closest<HTMLElement>('[data-webhook-id]')?.dataset.webhookId;
    if (button === null || button === undefined || id === undefined) return;
    const path = `/api/webhooks/${encodeURIComponent(id)}`;
    switch (button.dataset.webhookAction) {
      case 'disable':
        return void act('PATCH', path, { enabled: false }, 'Endpoint disabled.');
      case 'enable':
        return void act('PATCH', path, { enabled: true }, 'Endpoint enabled: it resumes where it stopped.');
      case 'delete':
        return void act('DELETE', path, undefined, 'Endpoint deleted.');
      case 'retry':
        return void act('POST', `${path}/deliveries/${encodeURIComponent(button.dataset.delivery ?? '')}/retry`, undefined, 'Delivery sent again.');
    }
  });

  return {
    setShown(shown) {
      if (!shown || Date.now() - lastRead < REFRESH_MS) return;
      lastRead = Date.now();
      void refresh();
    },
  };
}

function render(doc: Document, list: HTMLUListElement, rows: readonly EndpointRow[]): void {
  const items = rows.map((row) => {
    const item = doc.createElement('li');
    item.dataset.webhookId = row.id;
    const state = row.enabled ? 'enabled' : `disabled (${row.disabledReason ?? 'manual'})`;
    const codes = row.attempts.map((attempt) => (attempt.status === null ? 'no answer' : String(attempt.status))).join(' · ');
    item.append(
      textElement(doc, 'div', row.url, 'webhook-url'),
      textElement(doc, 'div', `${state} · backlog ${row.backlog}${codes === '' ? '' : ` · last: ${codes}`}`, 'webhook-state'),
    );
    const actions = doc.createElement('div');
    actions.className = 'webhook-actions';
    const button = (action: string, label: string, name: string): HTMLButtonElement => {
      const b = textElement(doc, 'button', label, action === 'delete' ? 'danger' : 'secondary');
      b.type = 'button';
      b.dataset.webhookAction = action;
      b.setAttribute('aria-label', `${name} ${row.url}`);
      return b;
    };
    const failed = row.attempts.find((attempt) => attempt.state === 'failed' || (attempt.status !== null && (attempt.status < 200 || attempt.status >= 300)));
    if (failed !== undefined) {
      const retry = button('retry', 'Retry', 'Retry the last failed delivery to');
      retry.dataset.delivery = failed.id;
      actions.append(retry);
    }
    actions.append(row.enabled ? button('disable', 'Disable', 'Disable') : button('enable', 'Enable', 'Enable'), button('delete', 'Delete', 'Delete'));
    item.append(actions);
    return item;
  });
  list.replaceChildren(...items);
}

function toRow(value: unknown): EndpointRow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || typeof v.url !== 'string' || typeof v.enabled !== 'boolean') return undefined;
  const attempts = Array.isArray(v.lastAttempts)
    ? v.lastAttempts.flatMap((a: unknown) => {
        const attempt = a as Record<string, unknown> | null;
        return attempt !== null && typeof attempt.id === 'string' && typeof attempt.state === 'string' ? [{ id: attempt.id, state: attempt.state, status: typeof attempt.status === 'number' ? attempt.status : null }] : [];
      })
    : [];
  return { id: v.id, url: v.url, enabled: v.enabled, disabledReason: typeof v.disabledReason === 'string' ? v.disabledReason : undefined, backlog: typeof v.backlog === 'number' ? v.backlog : 0, attempts };
}
