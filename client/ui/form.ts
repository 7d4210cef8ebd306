/**
 * @module client/ui/form
 * The "New order" form: item rows, reading the fields into a request body,
 * and showing field errors as sentences next to the fields they concern,
 * whether they come from the check made before sending or from the server.
 * On a phone, where the form is below the whole board, a "New order" button
 * stays on screen (while the form is not) and jumps to it.
 */

import type { ApiProblem, NewOrderBody } from '../api.ts';
import type { FieldError } from '../../src/protocol.ts';
import { requireElement } from './dom.ts';

/** The form, as the page drives it. */
export interface OrderForm {
  /** Show errors next to the fields they name; `rowOfItem` maps item indexes to form rows. */
  showProblem(problem: ApiProblem, rowOfItem: readonly number[]): void;
  /** Remove a message that said the server could not be reached (it can now). */
  clearNetworkProblem(): void;
  /** Empty the form after a successful create. */
  reset(): void;
}

/** Field names as the form's labels say them. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  customerName: 'Customer name',
  customerEmail: 'Email',
  items: 'Items',
  lines: 'Products',
  sku: 'Product',
  name: 'Item name',
  quantity: 'Quantity',
  price: 'Price',
};

/** Numbers of this many digits or more get thousands separators in messages. */
const GROUP_DIGITS_FROM = 4;

/**
 * Build the form over `#create-form`.
 * @param doc the document
 * @param onSubmit called with the body read from the fields
 */
export function createOrderForm(doc: Document, onSubmit: (body: NewOrderBody, rowOfItem: readonly number[]) => void): OrderForm {
  const form = requireElement<HTMLFormElement>(doc, '#create-form');
  const itemRows = requireElement<HTMLElement>(form, '#item-rows');
  const rowTemplate = requireElement<HTMLTemplateElement>(doc, '#item-row-template');
  const formError = requireElement<HTMLElement>(form, '[data-error-for=""]');
  const nameInput = requireElement<HTMLInputElement>(form, '[name="customerName"]');
  const lineRows = requireElement<HTMLElement>(form, '#line-rows');
  const lineTemplate = requireElement<HTMLTemplateElement>(doc, '#line-row-template');
  let networkProblemShown = false;
  /** The form row of each line sent, for errors that name `lines[i]`. */
  let rowOfLine: number[] = [];

  const jump = requireElement<HTMLButtonElement>(doc, '#jump-to-form');
  jump.addEventListener('click', () => {
    (form.closest('section') ?? form).scrollIntoView({ block: 'start' });
    nameInput.focus({ preventScroll: true });
  });
  // Only while the form is off screen: over the form it would cover what it points to.
  new IntersectionObserver((entries) => {
    jump.hidden = entries.some((entry) => entry.isIntersecting);
  }).observe(form);

  const addRow = (): HTMLElement => {
    const row = rowTemplate.content.firstElementChild!.cloneNode(true) as HTMLElement;
    itemRows.append(row);
    return row;
  };
  addRow();
  requireElement<HTMLButtonElement>(form, '#add-item').addEventListener('click', () => addRow().querySelector('input')?.focus());
  itemRows.addEventListener('click', (event) => {
    const button = (event.target as Element).closest('[data-action="remove-item"]');
    if (button === null) return;
    button.closest('.item-row')?.remove();
    if (itemRows.children.length === 0) addRow();
    itemRows.querySelector<HTMLInputElement>('input')?.focus();
  });
  // Product lines: the choices come from the Products panel (products.ts), which fills every line's select.
  const addLine = (): HTMLElement => {
    const row = lineTemplate.content.firstElementChild!.cloneNode(true) as HTMLElement;
    const first = lineRows.querySelector<HTMLSelectElement>('select[name="lineSku"]');
    if (first !== null) row.querySelector('select')!.replaceChildren(...[...first.options].map((o) => o.cloneNode(true)));
    row.querySelector('select')!.value = '';
    lineRows.append(row);
    return row;
  };
  addLine();
  requireElement<HTMLButtonElement>(form, '#add-line').addEventListener('click', () => addLine().querySelector('select')?.focus());
  lineRows.addEventListener('click', (event) => {
    const button = (event.target as Element).closest('[data-action="remove-line"]');
    if (button === null) return;
    button.closest('.line-row')?.remove();
    if (lineRows.children.length === 0) addLine();
    lineRows.querySelector<HTMLSelectElement>('select')?.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    const { body, rowOfItem } = read();
    onSubmit(body, rowOfItem);
  });

  function read(): { body: NewOrderBody; rowOfItem: number[] } {
    const data = new FormData(form);
    const items: NonNullable<NewOrderBody['items']>[number][] = [];
    const rowOfItem: number[] = [];
    [...itemRows.querySelectorAll<HTMLElement>('.item-row')].forEach((row, rowIndex) => {
      const value = (name: string): string => row.querySelector<HTMLInputElement>(`[name="${name}"]`)!.value.trim();
      const name = value('itemName');
      const quantity = value('itemQuantity');
      const price = value('itemPrice');
      if (name === '' && quantity === '' && price === '') return;
      if (quantity === '' && price === '' && name.includes(',')) {
        for (const part of name.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
          items.push(part);
          rowOfItem.push(rowIndex);
        }
        return;
      }
      items.push({ name, ...(quantity === '' ? {} : { quantity: Number(quantity) }), ...(price === '' ? {} : { price: Number(price) }) });
      rowOfItem.push(rowIndex);
    });
    const lines: { sku: string; quantity: number }[] = [];
    rowOfLine = [];
    for (const [rowIndex, row] of [...lineRows.querySelectorAll<HTMLElement>('.line-row')].entries()) {
      const sku = row.querySelector<HTMLSelectElement>('select')!.value;
      const quantity = row.querySelector<HTMLInputElement>('[name="lineQuantity"]')!.value.trim();
      if (sku === '') continue;
      lines.push({ sku, quantity: quantity === '' ? 1 : Number(quantity) });
      rowOfLine.push(rowIndex);
    }
    const email = String(data.get('customerEmail') ?? '').trim();
    // With products and no free-form item, the order is of lines alone.
    const itemsPart = lines.length > 0 && items.length === 0 ? {} : { items };
    return {
      body: { customerName: String(data.get('customerName') ?? ''), ...(email === '' ? {} : { customerEmail: email }), ...itemsPart, ...(lines.length === 0 ? {} : { lines }) },
      rowOfItem,
    };
  }

  function clearErrors(): void {
    for (const p of form.querySelectorAll<HTMLElement>('.field-error')) p.textContent = '';
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    networkProblemShown = false;
  }

  function showProblem(problem: ApiProblem, rowOfItem: readonly number[]): void {
    clearErrors();
    const rows = [...itemRows.querySelectorAll<HTMLElement>('.item-row')];
    let first: HTMLElement | undefined;
    const place = (slot: HTMLElement | null | undefined, message: string, input?: Element | null): void => {
      const target = slot ?? formError;
      target.textContent = target.textContent === '' ? message : `${target.textContent} ${message}`;
      input?.setAttribute('aria-invalid', 'true');
      if (first === undefined && input instanceof HTMLElement) first = input;
    };
    if (problem.errors.length === 0) {
      place(undefined, sentence(problem.detail));
      networkProblemShown = problem.code === 'NETWORK';
    }
    for (const error of problem.errors) {
      const item = /^items\[(\d+)\](?:\.(\w+))?$/.exec(error.field);
      const line = /^lines\[(\d+)\](?:\.(\w+))?$/.exec(error.field);
      if (line !== null) {
        const row = lineRows.querySelectorAll<HTMLElement>('.line-row')[rowOfLine[Number(line[1])] ?? -1];
        place(row?.querySelector<HTMLElement>('.line-error'), fieldSentence(error, line[2] ?? 'lines'), row?.querySelector(line[2] === 'quantity' ? 'input' : 'select'));
      } else if (item !== null) {
        const row = rows[rowOfItem[Number(item[1])] ?? -1];
        place(row?.querySelector<HTMLElement>('.item-error'), fieldSentence(error, item[2] ?? 'name'), row?.querySelector(`[name="${inputName(item[2])}"]`));
      } else if (error.field === 'items' && rowOfItem.length === 0 && rows[0] !== undefined) {
        // No item at all: every row was left empty. Say so at the first one, where typing fixes it.
        place(rows[0].querySelector<HTMLElement>('.item-error'), emptyRowsSentence(rows.length), rows[0].querySelector('[name="itemName"]'));
      } else if (error.field === 'items') {
        place(form.querySelector<HTMLElement>('[data-error-for="items"]'), fieldSentence(error, 'items'), rows[0]?.querySelector('input'));
      } else {
        const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(error.field)}"]`);
        place(slot, fieldSentence(error, error.field), form.querySelector(`[name="${CSS.escape(error.field)}"]`));
      }
    }
    first?.focus();
  }

  return {
    showProblem,
    clearNetworkProblem: () => {
      if (!networkProblemShown) return;
      formError.textContent = '';
      networkProblemShown = false;
    },
    reset: () => {
      form.reset();
      clearErrors();
      itemRows.replaceChildren();
      addRow();
      for (const row of [...lineRows.querySelectorAll('.line-row')].slice(1)) row.remove();
      lineRows.querySelector('select')!.value = '';
      nameInput.focus();
    },
  };
}

/**
 * A field error as a sentence a person reads: `Quantity must be a whole number from 1 to 1,000,000.`
 * @param error the error (field and message as the validator words them)
 * @param field the field's last name part (`quantity`, `customerName`, ...)
 */
export function fieldSentence(error: FieldError, field: string): string {
  const label = FIELD_LABELS[field] ?? field;
  return sentence(`${label} ${error.message.replace(/\ban integer\b/, 'a whole number')}`);
}

/**
 * What the form says when no item row holds anything.
 * @param rowCount how many item rows the form has
 */
export function emptyRowsSentence(rowCount: number): string {
  if (rowCount === 1) return 'Item row 1 is empty: enter what was ordered.';
  const rows = rowCount === 2 ? 'Item rows 1 and 2 are both empty' : `Item rows 1 to ${rowCount} are all empty`;
  return `${rows}: enter what was ordered in row 1.`;
}

/**
 * Capitalised, numbers grouped, ending with a full stop.
 * @param text a message
 */
export function sentence(text: string): string {
  const grouped = text.replace(new RegExp(`\\d{${GROUP_DIGITS_FROM},}`, 'g'), (digits) => Number(digits).toLocaleString());
  const capitalised = grouped.charAt(0).toUpperCase() + grouped.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

function inputName(field: string | undefined): string {
  switch (field) {
    case 'quantity':
      return 'itemQuantity';
    case 'price':
      return 'itemPrice';
    default:
      return 'itemName';
  }
}
