/**
 * Test receiver for webhooks: a real node:http server on an ephemeral port
 * that verifies every request's signature with the `standardwebhooks`
 * package, as a real receiver would, keeps what arrived, and answers what
 * the test tells it to (a status, headers, or no answer at all).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { StartedProcess } from './processes.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';

/** One request that arrived. */
export interface Received {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  readonly payload: { readonly type: string; readonly timestamp: string; readonly data: Record<string, unknown> & { readonly seq?: number; readonly order?: { readonly id: string; readonly status: string; readonly customerName: string } } };
  /** Whether `standardwebhooks` accepted it with the receiver's secret(s), one result per secret. */
  readonly verified: readonly boolean[];
  /** The status it was answered with (undefined: left hanging). */
  readonly answered: number | undefined;
}

/** What to answer a request: a status and headers, or `hang` to never answer. */
export type Reply = { readonly status: number; readonly headers?: Readonly<Record<string, string>> } | 'hang';

/** A running receiver. */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** The secrets to verify with (set once the endpoint is created). */
  secrets: string[];
  /** Decides the answer to each request (default: 204). */
  reply: (request: { readonly id: string; readonly index: number }) => Reply;
  /** Resolves once `predicate` holds for what arrived, checking after each arrival. */
  until(predicate: (received: readonly Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Start a receiver on 127.0.0.1, port 0. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    received,
    secrets: [],
    reply: () => ({ status: 204 }),
    until: (predicate, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the receiver did not get what was expected within ${timeoutMs} ms (it has ${received.length} requests)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      const verified = receiver.secrets.map((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const reply = receiver.reply({ id: headers['webhook-id'], index: received.length });
      received.push({
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        payload: JSON.parse(body) as Received['payload'],
        verified,
        answered: reply === 'hang' ? undefined : reply.status,
      });
      if (reply === 'hang') hanging.add(res);
      else res.writeHead(reply.status, reply.headers).end();
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` });
}

/** What a suite of webhook instances on one Redis shares: the server (none when the suite is skipped), one receiver, the instances it started. */
export interface RedisWebhookSuite {
  /** The suite's `skip` option: false, or why it is skipped (no redis-server). */
  readonly skip: string | false;
  readonly redis: RedisProcess | undefined;
  readonly receiver: Receiver;
  /** Instances the suite starts; killed (-9) after it. */
  readonly instances: StartedProcess[];
}

/**
 * Start a real redis-server (where it exists) and a receiver for a suite of
 * instances, and stop them all after the suite.
 */
export async function redisWebhookSuite(): Promise<RedisWebhookSuite> {
  const { skip } = redisRequirement();
  const redis = skip === false ? await startRedis() : undefined;
  const receiver = await startReceiver();
  const instances: StartedProcess[] = [];
  after(async () => {
    for (const instance of instances) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((i) => i.exited));
    await redis?.dispose();
    await receiver.close();
  });
  return { skip, redis, receiver, instances };
}
