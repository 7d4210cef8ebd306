/**
 * The Chromium the browser tests pick: CHROME_PATH first, then the system's,
 * then the one unpacked from the npm package (which must then really start).
 */

import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { test } from 'node:test';
import { SYSTEM_CHROMIUM, findChromium, isExecutable, launchChromium } from './browser.ts';

test('CHROME_PATH wins over every other Chromium', async () => {
  assert.deepEqual(await findChromium({ CHROME_PATH: '/opt/my/chrome' }), { executablePath: '/opt/my/chrome', source: 'CHROME_PATH' });
});

test('without CHROME_PATH the system Chromium is used when present, else an executable unpacked from npm', async () => {
  const choice = await findChromium({});
  if (isExecutable(SYSTEM_CHROMIUM)) {
    assert.deepEqual(choice, { executablePath: SYSTEM_CHROMIUM, source: 'system' });
    return;
  }
  assert.equal(choice.source, 'npm');
  assert.match(choice.executablePath, /node_modules\/\.cache\/liveorders\/chromium-[\d.]+\/chromium$/);
  accessSync(choice.executablePath, constants.X_OK);
  assert.deepEqual(await findChromium({}), choice, 'the second call reuses the unpacked copy');
});

test('the chosen Chromium starts and renders a page', async (t) => {
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setContent('<p id="p">rendered</p>');
  assert.equal(await page.locator('#p').textContent(), 'rendered');
  assert.match(browser.version(), /^\d+\./);
});
