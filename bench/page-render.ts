/**
 * How the page copes with a large store: 10,000 orders, loaded page by page,
 * then live status changes while all of them are in memory. Measures in real
 * Chromium (the one the browser tests pick, see test/browser.ts; via playwright-core).
 *
 *   npx tsx bench/page-render.ts [--orders 10000] [--updates 50]
 *
 * Prints a table and writes bench/results/page-render.json.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/support/logger.ts';
import { createServer } from '../src/server.ts';
import { launchChromium } from '../test/browser.ts';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '10000' }, updates: { type: 'string', default: '50' } } });
const ORDERS = Number(values.orders);
const UPDATES = Number(values.updates);

const server = createServer({ port: 0, logger: createLogger({ level: 'silent' }) });
const { port } = await server.listen();
const ids: string[] = [];
for (let i = 0; i < ORDERS; i++) {
  const result = await server.commands.create({ customerName: `Customer ${i}`, items: [{ name: 'widget', quantity: 1 + (i % 5), price: 9.99 }] });
  if (result.ok) ids.push(result.value.order.id);
}

const browser = await launchChromium();
const page = await browser.newPage();
const base = `http://127.0.0.1:${port}`;

const t0 = Date.now();
await page.goto(base);
await page.locator('#orders .card').first().waitFor();
const firstCardsMs = Date.now() - t0;

/** Move `count` orders (newest first from `offset`) and time each until its card shows the change. */
async function timeUpdates(offset: number, count: number): Promise<{ latencies: number[]; renders: number[] }> {
  const latencies: number[] = [];
  const before = await page.evaluate(() => performance.getEntriesByName('liveorders:render').length);
  for (let i = 0; i < count; i++) {
    const id = ids[ids.length - 1 - offset - i]!;
    const start = performance.now();
    await fetch(`${base}/api/orders/${id}/status`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"status":"processing"}' });
    await page.locator(`.card[data-order-id="${id}"][data-status="processing"]`).waitFor();
    latencies.push(performance.now() - start);
  }
  const renders = await page.evaluate((skip) => performance.getEntriesByName('liveorders:render').slice(skip).map((e) => e.duration), before);
  return { latencies, renders };
}

const snapshotOnly = await timeUpdates(0, UPDATES);

const t1 = Date.now();
let pagesLoaded = 0;
while (await page.locator('#load-older').isVisible()) {
  const before = await page.locator('#summary').textContent();
  await page.locator('#load-older').click();
  // Done when the summary counts the new page and the button is usable (or gone) again.
  await page.waitForFunction(
    (previous) =>
      document.querySelector('#summary')?.textContent !== previous && !document.querySelector<HTMLButtonElement>('#load-older')?.disabled,
    before,
  );
  pagesLoaded++;
}
const loadAllMs = Date.now() - t1;
const loaded = await page.locator('#summary').textContent();
const cardsInDom = await page.locator('#orders .card').count();
const allLoaded = await timeUpdates(UPDATES, UPDATES);

await browser.close();
await server.close();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? NaN;
const ms = (x: number): number => +x.toFixed(2);
const results = {
  orders: ORDERS,
  firstCardsMs,
  'snapshot only: update -> card, median ms': ms(median(snapshotOnly.latencies)),
  'snapshot only: update -> card, p95 ms': ms(p95(snapshotOnly.latencies)),
  'snapshot only: render, median ms': ms(median(snapshotOnly.renders)),
  olderPagesLoaded: pagesLoaded,
  loadAllOlderMs: loadAllMs,
  summaryAfterLoad: loaded,
  cardsInDom,
  'all loaded: update -> card, median ms': ms(median(allLoaded.latencies)),
  'all loaded: update -> card, p95 ms': ms(p95(allLoaded.latencies)),
  'all loaded: render, median ms': ms(median(allLoaded.renders)),
  'all loaded: render, max ms': ms(Math.max(...allLoaded.renders)),
};
console.table(results);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/page-render.json', import.meta.url), JSON.stringify(results, null, 2));
