/**
 * @module test/browser
 * Which Chromium the browser tests (and `bench/page-render.ts`) drive, and how
 * it is started. In order: `CHROME_PATH` when set; else the system's Chromium
 * (Debian's `chromium` package, which `.ci/run` installs); else the headless
 * Chromium that the dev dependency `@sparticuz/chromium` ships brotli-compressed
 * inside its npm package, unpacked once into `node_modules/.cache/`. So
 * `npm install && npm test` works on a machine without root, apt or a browser.
 */

import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** The npm package whose bundled Chromium is the last resort. */
const NPM_CHROMIUM = '@sparticuz/chromium';

/** Unpacked browsers live here, one folder per package version; `node_modules` is git-ignored and goes with a clean install. */
const CACHE_ROOT = fileURLToPath(new URL('../node_modules/.cache/liveorders/', import.meta.url));

/** Written last into an unpacked folder: a folder without it is an interrupted unpack and is redone. */
const READY_MARK = '.unpacked';

/** Flags for every launch: no sandbox (CI runs as root), and nothing that talks to the network or a GPU. */
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A Chromium to launch, and why it was picked (shown when it fails to start). */
export interface ChromiumChoice {
  readonly executablePath: string;
  readonly source: 'CHROME_PATH' | 'system' | 'npm';
}

/**
 * Pick the Chromium to drive: `CHROME_PATH`, else {@link SYSTEM_CHROMIUM}, else the npm one (unpacked on first use).
 * @param env the environment to read `CHROME_PATH` from
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
  const fromEnv = env.CHROME_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return { executablePath: fromEnv, source: 'CHROME_PATH' };
  if (isExecutable(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: 'system' };
  return { executablePath: await unpackNpmChromium(), source: 'npm' };
}

/**
 * Whether `path` is a file this process may run (a leftover or masked path is not a browser).
 * @param path the file
 */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Start headless Chromium with playwright-core; a failure says which browser was tried and how to pick another. */
export async function launchChromium(): Promise<Browser> {
  const choice = await findChromium();
  try {
    return await chromium.launch({ executablePath: choice.executablePath, args: LAUNCH_ARGS });
  } catch (error) {
    throw new Error(
      `could not start Chromium (${choice.source}: ${choice.executablePath}); set CHROME_PATH to another Chromium`,
      { cause: error },
    );
  }
}

/**
 * Unpack the npm package's browser into a folder named after the package
 * version (the package itself unpacks into the shared temporary folder, where
 * another version, or a half-written file from an interrupted run, would be
 * taken as good). Unpacking goes to a staging folder renamed into place once
 * complete, so a concurrent or killed run never leaves a broken browser behind.
 */
async function unpackNpmChromium(): Promise<string> {
  const packageRoot = new URL('../../', import.meta.resolve(NPM_CHROMIUM));
  const { version } = JSON.parse(readFileSync(new URL('package.json', packageRoot), 'utf8')) as { version: string };
  const target = join(CACHE_ROOT, `chromium-${version}`);
  const executable = join(target, 'chromium');
  if (existsSync(join(target, READY_MARK))) return executable;

  const staging = `${target}.${process.pid}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const { default: Chromium } = await import('@sparticuz/chromium');
  // The package unpacks into os.tmpdir(), which follows TMPDIR: point it at the staging folder
  // for the duration. Nothing else in this process runs meanwhile (tests launch before they start).
  const savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  let unpacked: string;
  try {
    unpacked = await Chromium.executablePath();
  } finally {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
  }
  if (unpacked !== join(staging, 'chromium')) throw new Error(`${NPM_CHROMIUM} unpacked to ${unpacked}, not into ${staging}`);
  writeFileSync(join(staging, READY_MARK), `${version}\n`);
  if (existsSync(target) && !existsSync(join(target, READY_MARK))) rmSync(target, { recursive: true, force: true });
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another run finished the same unpack first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, READY_MARK))) throw error;
  }
  return executable;
}
