/**
 * @module main
 * Entry point for `npm start`: read the environment, open the storage, build the server, listen,
 * shut down cleanly on SIGINT/SIGTERM (exit 0 once every socket is closed), and
 * re-read LIVEORDERS_TOKENS_FILE on SIGHUP.
 */

import { configFromEnv, tokensFromEnv } from './config.ts';
import { webhookSettingsFromEnv } from './notify/webhooks/settings.ts';
import { createServer, type LiveOrdersServer } from './server.ts';
import { openStorage } from './store.ts';
import { createLogger } from './support/logger.ts';
import { checkPortFree } from './support/port-check.ts';
import { DEFAULT_OPTIONS } from './options.ts';

/** Said when listening fails because the port is taken. */
const PORT_TAKEN_HINT = ' (the port is taken: stop the other process or set PORT)';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  if (!config.ok) {
    process.stderr.write(`liveorders: ${config.error}\n`);
    process.exit(2);
  }
  const webhookSettings = webhookSettingsFromEnv(process.env);
  if (!webhookSettings.ok) {
    process.stderr.write(`liveorders: ${webhookSettings.error}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.value.logLevel });
  // Before the storage is opened: a taken port must not leave a new DATA_DIR (or a Redis connection) behind.
  const taken = await checkPortFree(config.value.options.port ?? DEFAULT_OPTIONS.port, config.value.options.host ?? DEFAULT_OPTIONS.host);
  if (taken !== undefined) {
    process.stderr.write(`liveorders: cannot listen: ${taken.message}${taken.code === 'EADDRINUSE' ? PORT_TAKEN_HINT : ''}\n`);
    process.exit(1);
  }
  let server: LiveOrdersServer;
  try {
    const { eventLogCapacity } = config.value.options;
    const storage = await openStorage({
      ...config.value.storage,
      ...(eventLogCapacity === undefined ? {} : { historyCapacity: eventLogCapacity }),
      onSinkError: (error) => logger.error('an event consumer failed', { error }),
      logger,
    });
    if (storage.mode === 'memory') logger.warn('STORAGE=memory: orders are kept in this process only; every one is lost when it stops (STORAGE=journal keeps them in DATA_DIR)');
    server = createServer({ ...config.value.options, storage, logger, webhooks: { settings: webhookSettings.value } });
  } catch (error) {
    // Storage and createServer refuse bad settings with errors that say what to do.
    process.stderr.write(`liveorders: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const running = server;
  running.listen().then(
    (address) => {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      process.stderr.write(`liveorders: http://${host}:${address.port} (WebSocket at ws://${host}:${address.port}/ws)\n`);
    },
    (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? PORT_TAKEN_HINT : '';
      process.stderr.write(`liveorders: cannot listen: ${error.message}${hint}\n`);
      process.exit(1);
    },
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Rotating a leaked token must not cost the in-memory orders: edit the file, then `kill -HUP <pid>`.
  // Without a tokens file there is nothing to re-read, and SIGHUP keeps its default (stop).
  if (process.env.LIVEORDERS_TOKENS_FILE) {
    process.on('SIGHUP', () => {
      const tokens = tokensFromEnv(process.env);
      const replaced = tokens.ok ? running.replaceTokens(tokens.value) : tokens;
      // Success is logged by the server ('role tokens replaced', with the sockets it closed).
      if (!replaced.ok) logger.error('role tokens not reloaded; the previous ones stay', { reason: replaced.error });
    });
  }
}

void main();
