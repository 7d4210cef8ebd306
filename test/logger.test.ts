/** The JSON-lines logger: levels, fields, child loggers and errors. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type LogLevel } from '../src/logger.ts';

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
