/**
 * A property of the catalog over random sequences of creates, cancels,
 * moves on, deletes and restocks: the stock is never negative and always
 * the initial stock plus the restocks minus what orders hold. Checked
 * against the pure domain (decide and decideProduct, applied as the
 * projection applies events), and once through a real memory-backed
 * server over HTTP.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { decideProduct, type Product } from '../src/domain/catalog.ts';
import { decide, type Change } from '../src/domain/decide.ts';
import type { Order } from '../src/protocol.ts';
import { request, startServer } from './helpers.ts';

const AT = '2026-01-01T00:00:00.000Z';

/** One step of a random sequence; `pick` chooses among the orders made so far. */
type Step =
  | { readonly kind: 'create'; readonly quantity: number; readonly twoLines: boolean }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'process'; readonly pick: number }
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'restock'; readonly delta: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), quantity: fc.integer({ min: 1, max: 6 }), twoLines: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('process' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('restock' as const), delta: fc.integer({ min: -5, max: 8 }) }),
);

/** Units the orders hold: every order not cancelled, plus what deleted orders took past pending (sold). */
function held(orders: Iterable<Order>, sold: number): number {
  let units = sold;
  for (const order of orders) if (order.status !== 'cancelled') for (const line of order.lines ?? []) units += line.quantity;
  return units;
}

/** The lines of a create step: one line, or the same product on two lines (demand is summed). */
function linesOf(s: Extract<Step, { kind: 'create' }>, sku: string): { sku: string; quantity: number }[] {
  if (!s.twoLines || s.quantity === 1) return [{ sku, quantity: s.quantity }];
  return [{ sku, quantity: 1 }, { sku, quantity: s.quantity - 1 }];
}

test('pure domain: over random sequences the stock is never negative and always initial + restocks - held', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 20 }), fc.array(step, { maxLength: 60 }), (initial, steps) => {
      const created = decideProduct(undefined, { type: 'createProduct', input: { sku: 'P', name: 'P', priceCents: 100, stock: initial }, at: AT });
      assert.ok(created.ok);
      let product: Product = created.value.product;
      const orders = new Map<string, Order>();
      const ids: string[] = [];
      let restocked = 0;
      let sold = 0;
      const productOf = (sku: string) => (sku === product.sku ? product : undefined);
      const apply = (change: Change): void => {
        if (change.type === 'product.changed') product = change.product;
        else if (change.type !== 'product.deleted') {
          for (const p of change.products ?? []) product = p;
          if (change.type === 'order.deleted') {
            orders.delete(change.order.id);
            if (change.order.status !== 'pending' && change.order.status !== 'cancelled') sold += change.order.lines?.reduce((n, l) => n + l.quantity, 0) ?? 0;
          } else orders.set(change.order.id, change.order);
        }
      };
      for (const [n, s] of steps.entries()) {
        const picked = ids.length === 0 ? undefined : ids[(s as { pick?: number }).pick! % ids.length];
        let decided;
        switch (s.kind) {
          case 'create': {
            const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
            decided = decide(undefined, { type: 'create', id, input: { customerName: 'A', items: [], lines: linesOf(s, 'P') }, at: AT }, productOf);
            if (decided.ok) ids.push(id);
            else assert.equal(decided.error.kind, 'out-of-stock');
            break;
          }
          case 'restock':
            decided = decideProduct(product, { type: 'adjustStock', sku: 'P', delta: s.delta, at: AT });
            if (decided.ok) restocked += s.delta;
            else assert.ok(product.stock + s.delta < 0, 'a restock is refused only below zero');
            break;
          case 'cancel':
          case 'process':
            if (picked === undefined) continue;
            decided = decide(orders.get(picked), { type: 'changeStatus', id: picked, status: s.kind === 'cancel' ? 'cancelled' : 'processing', at: AT }, productOf);
            break;
          case 'delete':
            if (picked === undefined) continue;
            decided = decide(orders.get(picked), { type: 'delete', id: picked, at: AT }, productOf);
            if (decided.ok) ids.splice(ids.indexOf(picked), 1);
            break;
        }
        if (decided.ok) apply(decided.value);
        assert.ok(product.stock >= 0, 'stock never negative');
        assert.equal(product.stock, initial + restocked - held(orders.values(), sold));
      }
    }),
    { numRuns: 300 },
  );
});

test('through a real memory-backed server: the same property over HTTP', async () => {
  const srv = await startServer();
  after(() => srv.close());
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10 }), fc.array(step, { maxLength: 15 }), async (initial, steps) => {
      const sku = `RUN-${++run}`;
      assert.equal((await request(srv.base, 'POST', '/api/products', { sku, name: sku, priceCents: 199, stock: initial })).status, 201);
      const ids: string[] = [];
      const orders = new Map<string, Order>();
      let restocked = 0;
      let sold = 0;
      for (const s of steps) {
        const picked = ids.length === 0 ? undefined : ids[(s as { pick?: number }).pick! % ids.length];
        switch (s.kind) {
          case 'create': {
            const answer = await request(srv.base, 'POST', '/api/orders', { customerName: 'A', lines: linesOf(s, sku) });
            if (answer.status === 201) {
              const order = answer.body as Order;
              ids.push(order.id);
              orders.set(order.id, order);
            } else {
              assert.equal(answer.status, 409, answer.text);
              assert.equal((answer.body as { code: string }).code, 'LO_ERR_OUT_OF_STOCK');
            }
            break;
          }
          case 'restock': {
            if (s.delta === 0) continue;
            const answer = await request(srv.base, 'POST', `/api/products/${sku}/stock`, { delta: s.delta });
            if (answer.status === 200) restocked += s.delta;
            else assert.equal(answer.status, 409, answer.text);
            break;
          }
          case 'cancel':
          case 'process': {
            if (picked === undefined) continue;
            const answer = await request(srv.base, 'PATCH', `/api/orders/${picked}/status`, { status: s.kind === 'cancel' ? 'cancelled' : 'processing' });
            if (answer.status === 200) orders.set(picked, answer.body as Order);
            else assert.equal(answer.status, 409, answer.text);
            break;
          }
          case 'delete': {
            if (picked === undefined) continue;
            assert.equal((await request(srv.base, 'DELETE', `/api/orders/${picked}`)).status, 204);
            const order = orders.get(picked)!;
            if (order.status !== 'pending' && order.status !== 'cancelled') sold += order.lines?.reduce((n, l) => n + l.quantity, 0) ?? 0;
            orders.delete(picked);
            ids.splice(ids.indexOf(picked), 1);
            break;
          }
        }
        const product = (await request(srv.base, 'GET', `/api/products/${sku}`)).body as Product;
        assert.ok(product.stock >= 0, 'stock never negative');
        assert.equal(product.stock, initial + restocked - held(orders.values(), sold));
      }
    }),
    { numRuns: 40 },
  );
});
