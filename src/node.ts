/**
 * @module node
 * The application core, above storage: the live node (src/node/), the
 * core it starts (projection + commands), and the consumers of the tail.
 * See src/node/live-node.ts for how an instance is put together.
 */

export { OrderCommands, fingerprintOf } from './node/commands.ts';
export { TailConsumers, MAX_HELD_EVENTS, type ConsumerSource, type ConsumerSpec, type LiveConsumer, type MissedEvents } from './node/consumers.ts';
export { startCore, type Core, type CoreOptions } from './node/core.ts';
export { LiveNode, type LiveNodeOptions } from './node/live-node.ts';
export { createOrderIdGenerator } from './node/order-id.ts';
export { OrderProjection } from './node/projection.ts';
export { storageFailure } from './node/storage-failure.ts';
