/**
 * @module main
 * Entry point for `npm start`: read the environment, build the server, listen,
 * and shut down cleanly on SIGINT/SIGTERM.
 */

import { createLogger, isLogLevel } from './logger.ts';
import { createServer } from './server.ts';

function main(): void {
  const level = process.env.LOG_LEVEL;
  const logger = createLogger({ level: isLogLevel(level) ? level : 'info' });
  const port = process.env.PORT === undefined ? undefined : Number(process.env.PORT);
  const server = createServer({ port, host: process.env.HOST || undefined, logger });
  server.listen().then(
    (address) => {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      process.stderr.write(`liveorders: http://${host}:${address.port} (WebSocket at ws://${host}:${address.port}/ws)\n`);
    },
    (error: Error) => {
      logger.error('cannot listen', { error });
      process.exitCode = 1;
    },
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main();
