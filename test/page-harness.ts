/**
 * Shared set-up for the browser test files: one real server reached through a
 * TCP proxy (so a test can cut the network), one Chromium (see browser.ts),
 * pages whose console errors fail the test unless it expects them, axe-core,
 * screenshots and a check that nothing is wider than the viewport.
 */

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import type { AxeResults } from 'axe-core';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { CreatedOrder } from '../src/protocol.ts';
import type { ServerOptions } from '../src/server.ts';
import { launchChromium } from './browser.ts';
import { orderBody, request, startServer, type TestServer } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';

/** Screenshots go here; the folder is git-ignored. */
export const SCREENSHOT_DIR = new URL('../.tmp/screenshots/', import.meta.url).pathname;
/** The desktop viewport the page is checked at. */
export const DESKTOP = { width: 1280, height: 800 } as const;
/** The phone viewport the page is checked at. */
export const PHONE = { width: 390, height: 844 } as const;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What a browser test file gets. */
export interface PageHarness {
  readonly srv: TestServer;
  readonly proxy: TcpProxy;
  readonly browser: Browser;
  /** The page's URL through the proxy, ending in `/`. */
  readonly pageUrl: string;
  /** Console errors the current test expects (e.g. the refused connections of an outage). */
  allowErrors(...patterns: RegExp[]): void;
  /** A page in a context of its own; `bypassCSP` only where a test injects axe. */
  freshPage(options?: BrowserContextOptions): Promise<Page>;
  /** A fresh page on the board (or `path`), once it is live. */
  openBoard(path?: string, options?: BrowserContextOptions): Promise<Page>;
  /** Create an order over HTTP, with its tracking token. */
  createOrder(name: string, items?: unknown[]): Promise<CreatedOrder>;
}

/**
 * Register the hooks of a browser test file and return its harness.
 * @param serverOptions for the server it starts (e.g. email or webhook settings)
 */
export function usePageHarness(serverOptions: ServerOptions = {}): PageHarness {
  const pageErrors: string[] = [];
  let allowed: RegExp[] = [];
  const contexts: BrowserContext[] = [];
  const harness = {
    allowErrors: (...patterns: RegExp[]) => void allowed.push(...patterns),
    async freshPage(options: BrowserContextOptions = {}): Promise<Page> {
      const context = await harness.browser.newContext({ viewport: DESKTOP, ...options });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
      return page;
    },
    async openBoard(path = '', options: BrowserContextOptions = {}): Promise<Page> {
      const page = await harness.freshPage(options);
      await page.goto(harness.pageUrl + path);
      await page.locator('#connection[data-state="open"]').waitFor();
      return page;
    },
    async createOrder(name: string, items: unknown[] = ['widget']): Promise<CreatedOrder> {
      const res = await request(harness.srv.base, 'POST', '/api/orders', orderBody(name, items));
      assert.equal(res.status, 201, res.text);
      return res.body as CreatedOrder;
    },
  } as PageHarness & { srv: TestServer; proxy: TcpProxy; browser: Browser; pageUrl: string };

  before(async () => {
    harness.srv = await startServer(serverOptions);
    harness.proxy = await TcpProxy.start(Number(new URL(harness.srv.base).port));
    harness.pageUrl = `http://127.0.0.1:${harness.proxy.port}/`;
    harness.browser = await launchChromium();
  });
  beforeEach(() => {
    pageErrors.length = 0;
    allowed = [];
  });
  afterEach(async () => {
    // Each test's pages go with it, so none of them retries (and logs) into the next test.
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const unexpected = pageErrors.filter((e) => !allowed.some((pattern) => pattern.test(e)));
    assert.deepEqual(unexpected, [], `the page logged errors:\n${unexpected.join('\n')}`);
  });
  after(async () => {
    await harness.browser?.close();
    await harness.proxy?.close();
    await harness.srv?.close();
  });
  return harness;
}

/**
 * Run axe-core on the page and fail on any serious or critical violation.
 * The page's context must have been made with `bypassCSP: true` (the page's CSP forbids injected script).
 * @param page the page
 * @param what which view, for the failure message
 */
export async function assertNoSeriousAxeViolations(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run(context: Document): Promise<AxeResults> } };
    const results = await axe.run(document);
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).slice(0, 5).join(' | ')}`);
  });
  assert.deepEqual(violations, [], `axe found serious problems on ${what}`);
}

/**
 * Fail if the document, or any visible element, reaches past the viewport's right edge.
 * @param page the page
 * @param what which view, for the failure message
 */
export async function assertFitsViewport(page: Page, what: string): Promise<void> {
  const report = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.right > width + 0.5 || box.left < -0.5) {
        if (element.closest('.visually-hidden, .skip-link') !== null) continue;
        wide.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${element.className}: ${Math.round(box.left)}..${Math.round(box.right)}`);
      }
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10) };
  });
  assert.deepEqual(report.wide, [], `${what}: elements wider than the ${report.width} px viewport`);
  assert.ok(report.scrollWidth <= report.width, `${what}: the page scrolls sideways (${report.scrollWidth} > ${report.width} px)`);
}

/**
 * Save a screenshot under .tmp/screenshots/.
 * @param page the page
 * @param name file name without extension
 * @param fullPage the whole page, not only the viewport
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}
