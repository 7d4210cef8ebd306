/**
 * Many WebSocket watchers in one process, apart from the server. Each checks
 * that events arrive in seq order with no gap or repeat. Commands over IPC:
 * open (n connections, each watching everything or one order; resolved when
 * every snapshot arrived), arm and wait (every connection has `count` more
 * events; when it happened), close.
 */

import WebSocket from 'ws';
import { serve } from './ipc.ts';

interface Watcher {
  readonly ws: WebSocket;
  lastSeq: number;
  events: number;
  violations: number;
}

const watchers: Watcher[] = [];
let target = Infinity;
let reached = 0;
let reachedAt: bigint | undefined;
let onAllReached: ((at: bigint) => void) | undefined;

/** Every `"seq":N` in an events frame, in order (orders carry no such key; the event objects do, once each). */
const SEQ = /"seq":(\d+)/g;

/**
 * Count and check events without parsing whole frames: a thousand watchers
 * must not make this process, rather than the server, the bottleneck.
 */
function onFrame(watcher: Watcher, text: string): void {
  if (text.startsWith('{"type":"snapshot"')) {
    watcher.lastSeq = Number(/"seq":(\d+)/.exec(text)?.[1] ?? 0);
    return;
  }
  if (!text.startsWith('{"type":"events"')) return;
  for (const match of text.matchAll(SEQ)) {
    const seq = Number(match[1]);
    if (seq !== watcher.lastSeq + 1) watcher.violations++;
    watcher.lastSeq = seq;
    watcher.events++;
    if (watcher.events === target) {
      reached++;
      if (reached === watchers.length) {
        reachedAt = process.hrtime.bigint();
        onAllReached?.(reachedAt);
      }
    }
  }
}

function open(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const watcher: Watcher = { ws, lastSeq: 0, events: 0, violations: 0 };
    ws.on('message', (data: Buffer) => {
      onFrame(watcher, data.toString());
      if (!watchers.includes(watcher)) {
        watchers.push(watcher);
        resolve();
      }
    });
    ws.on('error', reject);
  });
}

serve(
  {
    /** Open `n` connections to `url`; with `orderIds`, connection i watches only order `orderIds[i]`. */
    async open({ url, n, orderIds }) {
      const count = Number(n);
      const ids = orderIds as string[] | undefined;
      const urlOf = (i: number): string => (ids === undefined ? String(url) : `${String(url)}?order=${ids[i % ids.length]}`);
      // Connect in batches so the server's accept queue is not flooded.
      for (let i = 0; i < count; i += 250) {
        await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, k) => open(urlOf(i + k))));
      }
      return watchers.length;
    },
    /** Start counting toward `count` new events per connection. Answers at once. */
    arm({ count }) {
      for (const w of watchers) {
        w.events = 0;
        w.violations = 0;
      }
      reached = 0;
      reachedAt = undefined;
      target = Number(count);
      return true;
    },
    /** Resolves when every connection has the armed count (the monotonic time it happened, in ns). */
    wait() {
      return new Promise((resolve) => {
        const answer = (at: bigint): void => resolve({ at: at.toString(), violations: watchers.reduce((n, w) => n + w.violations, 0) });
        if (reachedAt !== undefined) return answer(reachedAt);
        onAllReached = (at) => {
          onAllReached = undefined;
          answer(at);
        };
      });
    },
    close() {
      for (const w of watchers) w.ws.terminate();
      watchers.length = 0;
      return true;
    },
  },
  {},
);
