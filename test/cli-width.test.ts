/**
 * The terminal client's output fits the terminal: cell counting (CJK and
 * emoji two cells, combining marks none), lines cut or narrowed to a width,
 * short ids when whole ones do not fit, and whole lines on a pipe.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { EXIT } from '../cli/args.ts';
import { formatEvent, formatOrder, formatSnapshot, shortId } from '../cli/format.ts';
import { cellWidth, fitCells, padEndCells, padStartCells } from '../cli/width.ts';
import { ORDER_STATUSES, type Order, type OrderEvent, type SnapshotMessage } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';
import { Cli, PSEUDO_TERMINAL, PROJECT, WIDE_NAMES, terminalCells } from './cli-process.ts';

const srv: TestServer = await startServer();
after(srv.close);

const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Every line of `text` within `width` cells, counted as a terminal does. */
function assertFits(text: string, width: number, what: string): void {
  for (const line of text.split('\n')) {
    assert.ok(terminalCells(line) <= width, `${what}: ${terminalCells(line)} cells > ${width}: ${JSON.stringify(line)}`);
  }
}

describe('cells', () => {
  test('wide characters and emoji take two cells, combining marks and joiners none', () => {
    assert.equal(cellWidth('abc'), 3);
    assert.equal(cellWidth('漢字'), 4);
    assert.equal(cellWidth('한국'), 4);
    assert.equal(cellWidth('ＡＢ'), 4);
    assert.equal(cellWidth('🍕'), 2);
    assert.equal(cellWidth('e\u0301'), 1, 'e + combining acute');
    assert.equal(cellWidth('👨‍👩‍👧'), 6, 'a ZWJ family counts as its emoji, as wcwidth terminals draw it');
    assert.equal(cellWidth('\u2764\ufe0f'), 2, 'a heart with emoji presentation errs wide');
    for (const name of WIDE_NAMES) assert.equal(cellWidth(name), terminalCells(name), name);
  });

  test('cutting keeps graphemes whole and fits the cells; padding counts cells', () => {
    assert.equal(fitCells('漢字漢字', 5), '漢字…');
    assert.equal(fitCells('漢字漢字', 6), '漢字…', 'a wide character never straddles the edge');
    assert.equal(fitCells('e\u0301e\u0301e\u0301', 2), 'e\u0301…', 'the accent stays with its letter');
    assert.equal(fitCells('ab👨‍👩‍👧cd', 5), 'ab…', 'a family emoji is kept or dropped whole');
    assert.equal(fitCells('short', 10), 'short');
    assert.equal(padEndCells('漢', 4), '漢  ');
    assert.equal(padStartCells('e\u0301', 3), '  e\u0301');
  });
});

describe('formatting to a width', () => {
  const orders: Order[] = WIDE_NAMES.map((customerName, i) => ({ ...SAMPLE_ORDER, id: SAMPLE_ORDER.id.replace(/.$/, String(i)), customerName, total: 123456.78 }));
  const snapshot: SnapshotMessage = {
    type: 'snapshot',
    seq: 123456,
    epoch: 'srv',
    view: {},
    orders,
    total: 5000,
    counts: { pending: 1000, processing: 1000, shipped: 1000, delivered: 1000, cancelled: 1000 },
    limit: orders.length,
  };
  const events: OrderEvent[] = orders.flatMap((order, i): OrderEvent[] => [
    { type: 'order.created', seq: 99_990 + i, order },
    { type: 'order.updated', seq: 1_000_000 + i, order: { ...order, status: 'processing' }, previousStatus: 'pending' },
    { type: 'order.deleted', seq: 7 + i, order: { ...order, status: 'processing' } },
  ]);

  test('no line is wider than the width, from 20 to 140 columns, with and without colour', () => {
    for (let width = 20; width <= 140; width++) {
      for (const color of [false, true]) {
        assertFits(formatSnapshot(snapshot, { color, width }), width, `snapshot at ${width}`);
        for (const event of events) assertFits(formatEvent(event, { color, width }), width, `${event.type} at ${width}`);
        for (const order of orders) assertFits(formatOrder(order, { color, width }), width, `ack at ${width}`);
      }
    }
  });

  test('at 80 columns: short ids, the customer and the whole status change; at 130: whole ids', () => {
    const order = orders[0]!;
    const at80 = formatEvent({ type: 'order.updated', seq: 12, order: { ...order, status: 'processing' }, previousStatus: 'pending' }, { color: false, width: 80 });
    assert.doesNotMatch(at80, ID);
    assert.ok(at80.includes(`  ${shortId(order.id)}  `), at80);
    assert.match(at80, /  山田太郎.*…\s+pending -> processing$/);
    const table = formatSnapshot(snapshot, { color: false, width: 80 }).split('\n');
    assert.doesNotMatch(table.join('\n'), ID);
    // 28 cells of name in a 24-cell column: cut between graphemes, then the other columns in place.
    assert.match(table.find((l) => l.startsWith(shortId(orders[3]!.id)))!, /^[0-9a-f]{8} {2}🍕🍕 Pizza Party 🎉🎉 t… {2}pending {6}1 {2}123456\.78 {2}\d\d:\d\d:\d\d$/);
    const at130 = formatEvent({ type: 'order.created', seq: 12, order }, { color: false, width: 130 });
    assert.ok(at130.includes(order.id), at130);
  });

  test('columns line up in cells whatever the names are made of', () => {
    const table = formatSnapshot(snapshot, { color: false, width: 100 }).split('\n').filter((l) => l.includes('pending') && !l.includes('·'));
    const statusColumn = new Set(table.map((l) => terminalCells(l.slice(0, l.indexOf('pending')))));
    assert.equal(statusColumn.size, 1, table.join('\n'));
    const lines = events.filter((e) => e.type === 'order.updated').map((e) => formatEvent(e, { color: false, width: 80 }));
    const changeColumn = new Set(lines.map((l) => terminalCells(l.slice(0, l.indexOf('pending ->')))));
    assert.equal(changeColumn.size, 1, lines.join('\n'));
  });

  test('without a width (a pipe) lines are whole: full ids, every count on the header line', () => {
    const text = formatSnapshot(snapshot, { color: false });
    assert.match(text.split('\n')[0]!, new RegExp(`^snapshot · seq 123456 · 5000 orders \\(newest 6 shown\\) · ${ORDER_STATUSES.map((s) => `${s} 1000`).join(' · ')}$`));
    for (const order of orders) assert.ok(text.includes(order.id));
    assert.ok(formatEvent(events[0]!, { color: false }).includes(orders[0]!.id));
  });
});

describe('liveorders-watch --width', () => {
  test('every line of the table and the events fits; ids are short; a pipe without --width keeps them whole', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    for (const name of WIDE_NAMES) await postOrder(fresh.base, name);
    const narrow = new Cli(['--url', `${fresh.wsBase}/ws`, '--width', '80', '--count', String(WIDE_NAMES.length * 2)]);
    const piped = new Cli(['--url', `${fresh.wsBase}/ws`, '--count', String(WIDE_NAMES.length * 2)]);
    await narrow.until((out) => out.includes('UPDATED'), 'the table');
    await piped.until((out) => out.includes('UPDATED'), 'the table');
    for (const name of WIDE_NAMES) {
      const order = await postOrder(fresh.base, `${name} again`);
      await request(fresh.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' });
    }
    assert.equal(await narrow.exited, EXIT.ok);
    assert.equal(await piped.exited, EXIT.ok);
    assert.equal(narrow.lines.length, 2 + 1 + WIDE_NAMES.length + WIDE_NAMES.length * 2, narrow.stdout);
    assertFits(narrow.stdout.trimEnd(), 80, '--width 80');
    assert.doesNotMatch(narrow.stdout, ID, 'short ids at 80 columns');
    assert.ok(piped.lines.some((l) => terminalCells(l) > 80), 'piped lines are not cut to 80');
    assert.equal(piped.lines.filter((l) => ID.test(l)).length, WIDE_NAMES.length * 3, 'piped: whole ids in every row and event');
  });

  test('--width outside 20-1000 is bad usage', async () => {
    for (const width of ['19', '1001', 'wide', '']) {
      const cli = new Cli(['--width', width]);
      assert.equal(await cli.exited, EXIT.usage, width);
      assert.match(cli.stderr, /--width: expected a number of columns from 20 to 1000/);
    }
  });
});

describe('liveorders-watch in a terminal', { skip: PSEUDO_TERMINAL.skip }, () => {
  test("follows the terminal's width, and its changes", async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    for (const name of WIDE_NAMES) await postOrder(fresh.base, name);
    const cli = new Cli({ terminal: `stty cols 60 rows 40; echo "tty=$(tty)"; exec node --import tsx cli/ws-client.ts --url ${fresh.wsBase}/ws` }, { env: { NO_COLOR: '1' } });
    await cli.until((out) => out.includes('UPDATED') && out.includes('tty='), 'the table');
    await postOrder(fresh.base, WIDE_NAMES[0]!);
    await cli.until((out) => /created|new pending/.test(out), 'the first event');
    const at60 = cli.lines.filter((l) => !l.startsWith('tty='));
    assertFits(at60.join('\n'), 60, 'at 60 columns');
    assert.doesNotMatch(at60.join('\n'), ID);
    // Resize the terminal from outside, as a window manager would: the kernel sends SIGWINCH. The
    // client handles it in its own time, so orders are made until one is printed at the new width.
    const tty = /tty=(\/dev\/pts\/\d+)/.exec(cli.stdout)![1]!;
    assert.equal(spawnSync('stty', ['-F', tty, 'cols', '110'], { cwd: PROJECT }).status, 0);
    let wide: string | undefined;
    for (let i = 0; i < 20 && wide === undefined; i++) {
      await postOrder(fresh.base, `After the resize ${i}`);
      await cli.until((out) => out.includes(`After the resize ${i}`), 'the event after the resize');
      wide = cli.lines.find((l) => l.includes(`After the resize ${i}`) && l.includes('order.created'));
    }
    assert.ok(wide !== undefined, cli.stdout);
    assert.match(wide, /  order\.created  [0-9a-f]{8}  After the resize \d+ {2,}pending$/, 'the 110-column layout');
    assert.ok(terminalCells(wide) > 60 && terminalCells(wide) <= 110, wide);
    cli.type('\u0003');
    assert.equal(await cli.exited, 0);
  });
});
