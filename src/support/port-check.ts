/**
 * @module support/port-check
 * Whether a port can be listened on, asked before the storage is opened:
 * a start that will fail on a taken port should fail before it creates
 * DATA_DIR or connects to Redis, not after.
 */

import { createServer } from 'node:net';

/**
 * Bind `host:port` for a moment and let go. Port 0 always succeeds. The
 * port may still be taken between this check and the real listen; then
 * that listen reports it, as before.
 * @param port the port
 * @param host the address
 * @returns undefined when free, else the error listening raised (EADDRINUSE, EACCES, ...)
 */
export function checkPortFree(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
