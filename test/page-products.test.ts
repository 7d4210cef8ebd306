/**
 * The page's Products panel and product lines, in Chromium: the panel
 * lists the catalog with its stock and follows restocks and reservations
 * live (productUpdated); an operator picks a product in the create form,
 * the order is priced from the catalog and the stock drops in the panel;
 * a short stock is said in the form; the page stays axe clean.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Order } from '../src/protocol.ts';
import { request } from './helpers.ts';
import { assertNoSeriousAxeViolations, usePageHarness } from './page-harness.ts';

const h = usePageHarness();

describe('page: products', () => {
  test('the panel shows live stock; a product picked in the form is ordered, priced from the catalog, and its stock drops', async () => {
    assert.equal((await request(h.srv.base, 'POST', '/api/products', { sku: 'TEA-1', name: 'Green tea', priceCents: 450, stock: 3 })).status, 201);
    const page = await h.openBoard('', { bypassCSP: true });
    const stock = page.locator('#product-list .product[data-sku="TEA-1"] .product-stock');
    await stock.filter({ hasText: '3 in stock' }).waitFor();

    // A restock made elsewhere shows without a reload.
    assert.equal((await request(h.srv.base, 'POST', '/api/products/TEA-1/stock', { delta: 2 })).status, 200);
    await stock.filter({ hasText: '5 in stock' }).waitFor();

    await page.fill('[name="customerName"]', 'Tea Drinker');
    await page.selectOption('#line-rows select[name="lineSku"]', 'TEA-1');
    await page.fill('#line-rows [name="lineQuantity"]', '2');
    await page.click('#create-form button[type="submit"]');
    await page.locator('#created:not([hidden])').waitFor();
    await stock.filter({ hasText: '3 in stock' }).waitFor();
    const orders = (await request(h.srv.base, 'GET', '/api/orders?q=Tea%20Drinker')).body as Order[];
    assert.equal(orders.length, 1);
    assert.deepEqual(orders[0]!.lines, [{ sku: 'TEA-1', name: 'Green tea', quantity: 2, unitPriceCents: 450 }]);
    assert.equal(orders[0]!.total, 9);
    assert.deepEqual(orders[0]!.items, []);
    // The card lists the product line (an order of lines alone has no items to show).
    await page.locator(`#orders .card[data-order-id="${orders[0]!.id}"] .lines li`, { hasText: /2 × Green tea/ }).waitFor();

    // Asking for more than there is: said in the form, nothing reserved (the browser logs the 409 it got).
    h.allowErrors(/status of 409/);
    await page.fill('[name="customerName"]', 'Greedy');
    await page.selectOption('#line-rows select[name="lineSku"]', 'TEA-1');
    await page.fill('#line-rows [name="lineQuantity"]', '9');
    await page.click('#create-form button[type="submit"]');
    await page.locator('.form-error', { hasText: /not enough stock/i }).waitFor();
    assert.equal(await stock.textContent(), '3 in stock');
    await assertNoSeriousAxeViolations(page, 'the board with the Products panel and a product line');
  });
});
