/** The JSON-lines logger: levels, fields, child loggers and errors. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RepeatedLog, createLogger, type LogLevel } from '../src/support/logger.ts';

function capture(level: LogLevel): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: createLogger({ level, sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

test('lines below the level are dropped; each line has time, level, message and fields', () => {
  const { logger, lines } = capture('warn');
  logger.debug('d');
  logger.info('i');
  logger.warn('w', { a: 1 });
  logger.error('e');
  assert.deepEqual(
    lines.map(({ level, msg, a }) => ({ level, msg, a })),
    [
      { level: 'warn', msg: 'w', a: 1 },
      { level: 'error', msg: 'e', a: undefined },
    ],
  );
  assert.ok(lines.every((line) => typeof line.time === 'string' && !Number.isNaN(Date.parse(line.time))));
  const silent = capture('silent');
  silent.logger.error('not written');
  assert.equal(silent.lines.length, 0);
});

test('a child adds its fields to every line, keeps the level and sink, and leaves its parent as it was', () => {
  const { logger, lines } = capture('info');
  const child = logger.child({ conn: 7 });
  const grandchild = child.child({ view: 'all', conn: 8 });
  child.debug('dropped at info');
  child.info('from child', { extra: true });
  grandchild.warn('from grandchild');
  logger.info('from parent');
  assert.deepEqual(
    lines.map(({ msg, conn, view, extra }) => ({ msg, conn, view, extra })),
    [
      { msg: 'from child', conn: 7, view: undefined, extra: true },
      { msg: 'from grandchild', conn: 8, view: 'all', extra: undefined },
      { msg: 'from parent', conn: undefined, view: undefined, extra: undefined },
    ],
  );
  // One child per WebSocket connection: its methods are shared, not closures of its own.
  assert.equal(child.info, logger.info);
  assert.equal(grandchild.child, logger.child);
});

test('errors are logged with name, message and stack', () => {
  const { logger, lines } = capture('debug');
  logger.error('failed', { error: new TypeError('bad thing') });
  const error = lines[0]!.error as { name: string; message: string; stack: string };
  assert.equal(error.name, 'TypeError');
  assert.equal(error.message, 'bad thing');
  assert.match(error.stack, /TypeError: bad thing/);
});

test('a warning clients can repeat at will is written at most `limit` times per window, then summarised', async () => {
  const { logger, lines } = capture('info');
  const repeated = new RepeatedLog(logger, { limit: 3, windowMs: 40 });
  for (let i = 0; i < 1000; i++) repeated.warn('websocket error', { error: `bad frame ${i}` });
  repeated.warn('another message');
  assert.deepEqual(lines.map((l) => l.msg), ['websocket error', 'websocket error', 'websocket error', 'another message']);
  await new Promise((resolve) => setTimeout(resolve, 80));
  const summary = lines.find((l) => l.msg === 'websocket error (repeated)');
  assert.equal(summary?.suppressed, 997, 'the held-back lines are counted once the window ends');
  assert.equal(lines.filter((l) => l.msg === 'another message (repeated)').length, 0, 'nothing held back, no summary');
  repeated.warn('websocket error');
  assert.equal(lines.at(-1)?.msg, 'websocket error', 'a new window writes again');
});
