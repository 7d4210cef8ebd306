/**
 * @module transport/http/page
 * Serves the browser page: `client/index.html` (the board), `client/track.html`
 * (the customer tracking page at `/track/TOKEN`, with the shop's name written
 * in when there is one), the TypeScript in `client/`
 * bundled by esbuild on first request (once per process, then cached), and
 * the stylesheet. Only these fixed paths are served, so no request can reach
 * another file. A browser asking for any other page gets a friendly HTML 404
 * (`client/not-found.html`); other clients get problem+json. Every page
 * response carries a strict Content-Security-Policy.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tagRoute } from '../../observe/http-metrics.ts';
import { sendProblem, sendText } from './io.ts';
import { requestIdField, requestIdOf } from './request-log.ts';
import type { Logger } from '../../support/logger.ts';
import { ProtocolError, trackingTokenInPath } from '../../protocol.ts';
import type { RequestTarget } from './request-target.ts';

/** Answers a non-API request. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, url: RequestTarget) => Promise<void>;

/** One file ready to send. */
interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const CLIENT_DIR = new URL('../../../client/', import.meta.url);

/** No inline script or style, no framing, and connections only back to this origin. */
export const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
} as const;

/** The page's paths and how each is produced. */
const ASSETS: Readonly<Record<string, () => Promise<Asset>>> = {
  '/': () => readAsset('index.html', 'text/html; charset=utf-8'),
  '/index.html': () => readAsset('index.html', 'text/html; charset=utf-8'),
  '/app.css': () => readAsset('styles.css', 'text/css; charset=utf-8'),
  '/app.js': () => bundleClient(),
};

/** The customer tracking page, served at every well-formed `/track/TOKEN`. */
const TRACKING_PAGE = '/track.html';
/** The tracking page's default brand, which the shop's name replaces. */
const TRACKING_BRAND = '<span id="track-brand" class="track-brand">Order tracking</span>';

/**
 * The tracking page, with `shopName` (HTML-escaped) in place of "Order tracking" when there is one.
 * @param shopName the shop's name, '' for none
 */
async function trackingAsset(shopName: string): Promise<Asset> {
  const page = await readAsset('track.html', 'text/html; charset=utf-8');
  if (shopName === '') return page;
  const html = page.body.toString('utf8');
  if (!html.includes(TRACKING_BRAND)) throw new Error('client/track.html lost its #track-brand element');
  return asset(Buffer.from(html.replace(TRACKING_BRAND, TRACKING_BRAND.replace('>Order tracking<', `>${escapeHtml(shopName)}<`))), page.contentType);
}
/** The metrics label of every tracking link: the token is a credential, never a label. */
const TRACKING_ROUTE = '/track/:token';

/** The HTML answer to a browser asking for a page that does not exist. */
const NOT_FOUND_PAGE = '/not-found.html';
const NOT_FOUND_ASSET = (): Promise<Asset> => readAsset('not-found.html', 'text/html; charset=utf-8');

/** Built assets, shared by every server in the process (tests start many). */
const cache = new Map<string, Promise<Asset>>();

/**
 * Create the page handler.
 * @param options.logger where build failures are reported
 * @param options.shopName the shop's name for the tracking page ('' or absent: none)
 */
export function createPageHandler(options: { logger: Logger; shopName?: string }): PageHandler {
  const shopName = options.shopName ?? '';
  // The cache is shared by every server in the process; servers with another shop name get their own page.
  const trackingPath = `${TRACKING_PAGE}\n${shopName}`;
  const trackingPage = (): Promise<Asset> => trackingAsset(shopName);
  return async (req, res, url) => {
    // Every tracking link is the same page, which reads the token from its path.
    const tracking = trackingTokenInPath(url.pathname) !== undefined;
    const path = tracking ? trackingPath : url.pathname;
    const produce = tracking ? trackingPage : ASSETS[path];
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (produce !== undefined) tagRoute(res, tracking ? TRACKING_ROUTE : url.pathname);
    if (produce === undefined) {
      // A person following a broken link (a cut-off tracking link, say) reads a page, not JSON;
      // tracking links are opened by customers, so those always get the page.
      const wantsPage = url.pathname.startsWith('/track/') || /\btext\/html\b/.test(req.headers.accept ?? '');
      if (readOnly && wantsPage) return send(req, res, NOT_FOUND_PAGE, NOT_FOUND_ASSET, 404);
      return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', `No page at ${url.pathname}`));
    }
    if (!readOnly) {
      return sendProblem(res, new ProtocolError('LO_ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET, HEAD`), {
        Allow: 'GET, HEAD',
      });
    }
    return send(req, res, path, produce, 200);
  };

  async function send(req: IncomingMessage, res: ServerResponse, path: string, produce: () => Promise<Asset>, status: 200 | 404): Promise<void> {
    let asset: Asset;
    try {
      asset = await cached(path, produce);
    } catch (error) {
      options.logger.error('cannot build the page', { error, path, id: requestIdOf(res) });
      return sendProblem(res, new ProtocolError('LO_ERR_INTERNAL', 'The page could not be built; see the server log'));
    }
    const headers = { ...PAGE_SECURITY_HEADERS, 'Content-Type': asset.contentType, ETag: asset.etag, 'Cache-Control': 'no-cache' };
    if (status === 200 && req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { ...headers, ...requestIdField(res) });
      res.end();
      return;
    }
    sendText(res, status, asset.body, headers);
  }
}

function cached(path: string, produce: () => Promise<Asset>): Promise<Asset> {
  let promise = cache.get(path);
  if (promise === undefined) {
    promise = produce();
    cache.set(path, promise);
    // A failed build is retried on the next request rather than cached.
    promise.catch(() => cache.delete(path));
  }
  return promise;
}

async function readAsset(file: string, contentType: string): Promise<Asset> {
  return asset(await readFile(new URL(file, CLIENT_DIR)), contentType);
}

/**
 * Bundle `client/main.ts` (and the protocol it imports) into one minified ES module.
 * esbuild is loaded lazily: it is only needed once the page is requested.
 */
export async function bundleClient(): Promise<Asset> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [new URL('main.ts', CLIENT_DIR).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output');
  return asset(Buffer.from(output.contents), 'text/javascript; charset=utf-8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function asset(body: Buffer, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
