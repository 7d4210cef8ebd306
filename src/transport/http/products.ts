/**
 * @module transport/http/products
 * The catalog's endpoints: each decodes the request, reads the projection
 * or calls the catalog's write path, and encodes the answer. The rules of
 * stock live in domain/catalog.ts.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { productNotFound } from '../../protocol/errors.ts';
import { isSku } from '../../protocol/parse.ts';
import { parseCreateProductInput, parseStockDelta, parseUpdateProductInput, type Product } from '../../protocol/products.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { readJsonBody, sendEmpty, sendJson, sendProblem } from './io.ts';
import { commit, parseIfMatch, sendBodyProblem } from './orders.ts';

/** `GET /api/products`: every product, by SKU. */
export function listProducts(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  const products = ctx.catalog.products();
  sendJson(res, 200, products, { 'X-Total-Count': String(products.length) });
}

/** `POST /api/products`: 201 with the new product. */
export async function createProduct(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  const input = parseCreateProductInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  const created = await commit(ctx, res, ctx.catalog.createProduct(input.value));
  if (created !== undefined) sendProduct(res, 201, created.product, { Location: `/api/products/${created.product.sku}` });
}

/** `GET /api/products/SKU`, with its version as ETag. */
export function getProduct(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  const product = isSku(id) ? ctx.catalog.product(id) : undefined;
  if (product === undefined) return sendProblem(res, productNotFound(id));
  sendProduct(res, 200, product);
}

/** `PATCH /api/products/SKU`: a new name or price, honouring `If-Match`. */
export async function updateProduct(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  if (!isSku(id)) return sendProblem(res, productNotFound(id));
  if (!expected.ok) return sendProblem(res, expected.error);
  const input = parseUpdateProductInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  const changed = await commit(ctx, res, ctx.catalog.updateProduct(id, input.value, expected.value));
  if (changed !== undefined) sendProduct(res, 200, changed.product);
}

/** `POST /api/products/SKU/stock`: `{ "delta": n }` added to the stock (never below zero), honouring `If-Match`. */
export async function adjustStock(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  if (!isSku(id)) return sendProblem(res, productNotFound(id));
  if (!expected.ok) return sendProblem(res, expected.error);
  const delta = parseStockDelta(body.value);
  if (!delta.ok) return sendProblem(res, delta.error);
  const changed = await commit(ctx, res, ctx.catalog.adjustStock(id, delta.value, expected.value));
  if (changed !== undefined) sendProduct(res, 200, changed.product);
}

/** `DELETE /api/products/SKU`, honouring `If-Match`. Orders keep their lines; cancelling one later gives back nothing to a product that is gone. */
export async function deleteProduct(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  if (!isSku(id)) return sendProblem(res, productNotFound(id));
  if (!expected.ok) return sendProblem(res, expected.error);
  const deleted = await commit(ctx, res, ctx.catalog.deleteProduct(id, expected.value));
  if (deleted !== undefined) sendEmpty(res, 204);
}

function sendProduct(res: ServerResponse, status: number, product: Product, headers: Record<string, string> = {}): void {
  sendJson(res, status, product, { ETag: `"${product.version}"`, ...headers });
}
