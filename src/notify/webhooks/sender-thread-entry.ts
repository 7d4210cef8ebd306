/**
 * @module notify/webhooks/sender-thread-entry
 * The sender thread: makes the attempts it is asked for, each with the
 * kept connections of its endpoint's pool, and answers with how each
 * ended. It lowers its own priority first, so that on a busy core the
 * thread serving requests goes first.
 */

import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setPriority } from 'node:os';
import { parentPort, type MessagePort } from 'node:worker_threads';
import { MAX_CONNECTIONS_PER_ENDPOINT, sendAttempt, type ConnectionPool } from './send.ts';
import { SENDER_THREAD_NICE, type SenderReply, type SenderRequest } from './sender-messages.ts';

/**
 * Lower this thread's priority, where a thread has one of its own (Linux);
 * elsewhere it runs at the process's. The nice value alone still lets it
 * finish its time slice when a request wakes the serving thread; as a
 * SCHED_IDLE thread (set with util-linux `chrt`, where it exists) it
 * gives way at once.
 */
function lowerThisThreadsPriority(): void {
  let threadId: number;
  try {
    // On Linux a nice value belongs to a thread; /proc/thread-self names this one's id.
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(threadId) || threadId <= 0) return;
    setPriority(threadId, SENDER_THREAD_NICE);
  } catch {
    return; // Not Linux, or not allowed: the attempts still go out, on an equal footing with requests.
  }
  // Without chrt, or where it is refused, the nice value stays.
  spawnSync('chrt', ['--idle', '--pid', '0', String(threadId)], { stdio: 'ignore', timeout: CHRT_TIMEOUT_MS });
}

/** How long setting the scheduling policy may take before the thread goes on without it. */
const CHRT_TIMEOUT_MS = 5000;

/** The channel to the serving thread. */
function serverPort(): MessagePort {
  if (parentPort === null) throw new Error('sender-thread-entry runs as a worker thread, started by SenderThread');
  return parentPort;
}

const port = serverPort();
lowerThisThreadsPriority();

const pools = new Map<string, ConnectionPool>();
const inFlight = new Map<number, AbortController>();

function pool(name: string): ConnectionPool {
  let found = pools.get(name);
  if (found === undefined) {
    found = { http: new HttpAgent({ keepAlive: true, maxSockets: MAX_CONNECTIONS_PER_ENDPOINT }), https: new HttpsAgent({ keepAlive: true, maxSockets: MAX_CONNECTIONS_PER_ENDPOINT }) };
    pools.set(name, found);
  }
  return found;
}

async function send(message: Extract<SenderRequest, { type: 'send' }>): Promise<void> {
  const abort = new AbortController();
  inFlight.set(message.id, abort);
  const result = await sendAttempt({ ...message.request, signal: abort.signal }, message.pool === undefined ? undefined : pool(message.pool));
  inFlight.delete(message.id);
  const reply: SenderReply = { id: message.id, result };
  port.postMessage(reply);
}

port.on('message', (message: SenderRequest) => {
  switch (message.type) {
    case 'send':
      void send(message);
      break;
    case 'cancel':
      inFlight.get(message.id)?.abort();
      break;
    case 'close-pool': {
      const closing = pools.get(message.pool);
      pools.delete(message.pool);
      closing?.http.destroy();
      closing?.https.destroy();
      break;
    }
  }
});
