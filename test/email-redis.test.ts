/**
 * Customer emails with three instances sharing a Redis history: one sender
 * (the lease holder) sends each email once; when an instance is killed,
 * every email of every order still arrives.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { request, waitFor } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';
import { startSmtpSink } from './smtp-sink.ts';

const { skip } = redisRequirement();
const redis: RedisProcess | undefined = skip === false ? await startRedis() : undefined;
const sink = await startSmtpSink();
const instances: StartedProcess[] = [];
after(async () => {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.exited));
  await redis?.dispose();
  await sink.close();
});

function messageId(id: string): string {
  return `<order-${id}.v1@shop.example>`;
}

function countOf(id: string): number {
  return sink.received.filter((mail) => mail.messageId === messageId(id)).length;
}

describe('three Redis instances', { skip }, () => {
  test('each email is sent once, by one instance; after kill -9 of one, every email still arrives', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'emails', SMTP_URL: sink.url, MAIL_FROM: 'orders@shop.example', PUBLIC_URL: 'http://localhost:8000', EMAIL_RETRY_SCHEDULE: '0.1' };
    const started = await Promise.all([0, 1, 2].map(() => startInstance(env)));
    instances.push(...started);
    const create = async (instance: StartedProcess, i: number): Promise<string> => {
      const res = await request(instance.base, 'POST', '/api/orders', { customerName: `C${i}`, customerEmail: `c${i}@example.com`, items: ['x'] });
      assert.equal(res.status, 201, res.text);
      return (res.body as CreatedOrder).id;
    };
    const first: string[] = [];
    for (let i = 0; i < 30; i++) first.push(await create(started[i % 3]!, i));
    await waitFor(() => first.every((id) => countOf(id) >= 1), 'every email of the first 30 orders', 60_000);
    // One more through another instance: once it arrived, a second sender would have sent the first ones again by now.
    const marker = await create(started[1]!, 30);
    await waitFor(() => countOf(marker) >= 1, 'the marker email', 60_000);
    for (const id of [...first, marker]) assert.equal(countOf(id), 1, `the email about ${id} was sent once`);
    // Whichever instance sent it, every instance shows what was emailed.
    for (const instance of started) {
      const listed = await request(instance.base, 'GET', `/api/orders/${first[0]}/emails`);
      assert.deepEqual((listed.body as { emails: { status: string; outcome: string }[] }).emails.map((e) => [e.status, e.outcome]), [['pending', 'sent']]);
    }

    started[0]!.child.kill('SIGKILL');
    await started[0]!.exited;
    const later: string[] = [];
    for (let i = 31; i < 51; i++) later.push(await create(started[1 + (i % 2)]!, i));
    // If the killed instance held the lease, another takes it once it runs out.
    await waitFor(() => later.every((id) => countOf(id) >= 1), 'every email after the kill', 60_000);
  });
});
