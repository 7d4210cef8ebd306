/**
 * @module protocol
 * The one definition of the wire, shared by the server, the page and the CLI:
 * the order and its status machine, every WebSocket message in both
 * directions, the error registry, the validators that turn untrusted input
 * into those types (server side), the decoders the clients read the server
 * with, and the encoders. Each part lives in `src/protocol/` (and the status
 * machine and money rules in `src/domain/`); this module gathers them. No
 * Node-only imports anywhere below it, so esbuild can bundle it for the page.
 */

export * from './domain/statuses.ts';
export { ORDER_LIMITS, orderTotalCents, priceInCents } from './domain/orders.ts';
export * from './protocol/orders.ts';
export * from './protocol/short-id.ts';
export * from './protocol/messages.ts';
export * from './protocol/errors.ts';
export * from './protocol/json.ts';
export * from './protocol/parse.ts';
export * from './protocol/text.ts';
export * from './protocol/decode.ts';
export * from './protocol/encode.ts';
export * from './protocol/products.ts';
