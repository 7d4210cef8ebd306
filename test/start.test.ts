/** `npm start` as a newcomer runs it: a real npm, a real process tree, real signals. */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;
const DATA_DIR = mkdtempSync(join(tmpdir(), 'liveorders-start-'));
after(() => rmSync(DATA_DIR, { recursive: true, force: true }));

/** Start `npm start` on a free port and resolve with the process and the address it printed. */
async function npmStart(env: Record<string, string> = {}): Promise<{ npm: ChildProcess; base: string; exited: Promise<number | null> }> {
  const npm = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  let stderr = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no address: ${stderr}`)), 20_000);
    npm.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /liveorders: (http:\/\/[^\s]+)/.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { npm, base, exited };
}

test('kill <npm pid> stops the server: npm start hands the signal to it, and it shuts down cleanly', async () => {
  const { npm, base, exited } = await npmStart();
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  npm.kill('SIGTERM');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${base}/healthz`), 'nothing listens any more');
});
