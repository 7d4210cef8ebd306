/**
 * @module client/ui/products
 * The Products panel: every product of the catalog with its price and live
 * stock, and the product choices of the create form's lines, both kept up
 * to date as `productUpdated` messages come.
 */

import type { Product } from '../../src/protocol.ts';
import { requireElement } from './dom.ts';

/** The panel, as the page drives it. */
export interface ProductsPanel {
  /** Show the catalog as it is now (and offer it in the form's line choices). */
  render(products: ReadonlyMap<string, Product>): void;
}

/**
 * Build the panel over `#product-list`.
 * @param doc the document
 */
export function createProductsPanel(doc: Document): ProductsPanel {
  const list = requireElement<HTMLUListElement>(doc, '#product-list');
  const empty = requireElement<HTMLElement>(doc, '#products-empty');
  return {
    render(products) {
      const sorted = [...products.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
      empty.hidden = sorted.length > 0;
      list.replaceChildren(...sorted.map((product) => productItem(doc, product)));
      for (const select of doc.querySelectorAll<HTMLSelectElement>('select[name="lineSku"]')) fillChoices(doc, select, sorted);
    },
  };
}

/**
 * Offer the products in a line's choice, keeping what was chosen.
 * @param doc the document
 * @param select a line's product choice
 * @param products the catalog, by SKU
 */
export function fillChoices(doc: Document, select: HTMLSelectElement, products: readonly Product[]): void {
  const chosen = select.value;
  const none = doc.createElement('option');
  none.value = '';
  none.textContent = 'Choose a product';
  select.replaceChildren(none, ...products.map((product) => {
    const option = doc.createElement('option');
    option.value = product.sku;
    option.textContent = `${product.name} (${product.sku}), ${money(product.priceCents)}, ${product.stock} in stock`;
    option.disabled = product.stock === 0 && product.sku !== chosen;
    return option;
  }));
  select.value = products.some((p) => p.sku === chosen) ? chosen : '';
}

function productItem(doc: Document, product: Product): HTMLLIElement {
  const item = doc.createElement('li');
  item.className = 'product';
  item.dataset.sku = product.sku;
  const name = doc.createElement('span');
  name.className = 'product-name';
  name.textContent = `${product.name} `;
  const sku = doc.createElement('span');
  sku.className = 'hint';
  sku.textContent = product.sku;
  name.append(sku);
  const price = doc.createElement('span');
  price.textContent = money(product.priceCents);
  const stock = doc.createElement('span');
  stock.className = product.stock === 0 ? 'product-stock out' : 'product-stock';
  stock.dataset.stock = String(product.stock);
  stock.textContent = product.stock === 0 ? 'out of stock' : `${product.stock} in stock`;
  item.append(name, price, stock);
  return item;
}

/** Whole cents as a price with two decimals. */
function money(cents: number): string {
  return (cents / 100).toFixed(2);
}
