/**
 * Small things a new user trips over, each as a real process: `-i` with
 * piped input exits non-zero when an answer was an `error`; `npm run -s
 * watch --json` (without `--`) says npm kept the flag; event lines carry the
 * time of the change, not of arrival; a taken port fails before DATA_DIR
 * is created; `STORAGE=memory` warns that nothing is kept.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT } from '../cli/args.ts';
import { formatEvent } from '../cli/format.ts';
import { flagsNpmKept } from '../cli/npm-flags.ts';
import type { Order } from '../src/protocol.ts';
import { SAMPLE_ORDER } from './fixtures/messages.ts';
import { postOrder, startServer, type TestServer } from './helpers.ts';
import { Cli, PROJECT } from './cli-process.ts';
import { MAIN } from './processes.ts';

/** Run a command to its end; its exit code and output. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('terminal client nits', () => {
  let srv: TestServer;
  let order: Order;
  before(async () => {
    srv = await startServer();
    order = await postOrder(srv.base, 'Nit');
  });
  after(() => srv.close());

  test('-i with piped input: exit 6 when an answer was an error, 0 when none was', async () => {
    const failing = new Cli(['--url', `${srv.wsBase}/ws`, '-i', '--limit', '1'], { stdin: true });
    failing.child.stdin!.end(`{"type":"ping","id":"a"}\n{"type":"updateStatus","requestId":"u1","orderId":"${order.id}","status":"pending"}\n{"type":"ping","id":"b"}\n`);
    assert.equal(await failing.exited, EXIT.serverError);
    assert.match(failing.stdout, /^error u1 {2}LO_ERR_BAD_TRANSITION/m);
    assert.match(failing.stdout, /^pong b$/m, 'the messages after the error were still sent and answered');
    assert.match(failing.stderr, /1 message got an error answer/);
    const fine = new Cli(['--url', `${srv.wsBase}/ws`, '-i', '--limit', '1'], { stdin: true });
    fine.child.stdin!.end('{"type":"ping","id":"a"}\n');
    assert.equal(await fine.exited, EXIT.ok, fine.stderr);
  });

  test('npm run -s watch --json (without --): a warning that npm kept --json', async () => {
    const res = await run('npm', ['run', '-s', 'watch', '--json', '--', '--url', `${srv.wsBase}/ws`, '--once']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /npm kept --json for itself, so this client did not get it: put client options after --, as in npm run -s watch -- --json/);
    assert.match(res.stdout, /^snapshot · seq/m, 'the human table, as --json did not arrive');
    const proper = await run('npm', ['run', '-s', 'watch', '--', '--json', '--url', `${srv.wsBase}/ws`, '--once']);
    assert.equal(proper.code, 0);
    assert.doesNotMatch(proper.stderr, /npm kept/);
  });

  test('flagsNpmKept: only under npm, only the client\'s flags, not those it got anyway', () => {
    assert.deepEqual(flagsNpmKept({ npm_config_json: 'true' }, []), [], 'not run by npm');
    const npm = { npm_lifecycle_event: 'watch', npm_config_cache: '/x', npm_config_json: 'true', npm_config_once: 'true', npm_config_color: '' };
    assert.deepEqual(flagsNpmKept(npm, []), ['--json', '--once', '--no-color']);
    assert.deepEqual(flagsNpmKept(npm, ['--json', '--no-color']), ['--once']);
  });

  test('an event line shows when the change happened (updatedAt), not when it arrived', () => {
    const changedAt = '2020-01-02T03:04:05.678Z';
    const line = formatEvent({ type: 'order.updated', seq: 9, order: { ...SAMPLE_ORDER, status: 'shipped', updatedAt: changedAt }, previousStatus: 'pending' }, { color: false });
    const d = new Date(changedAt);
    const local = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}.678`;
    assert.ok(line.startsWith(local), `${line} starts with ${local}`);
  });
});

describe('npm start nits', () => {
  let holder: Server;
  let port: number;
  const dirs: string[] = [];
  before(async () => {
    holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  after(() => {
    holder.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a taken port: exit 1 saying so, and DATA_DIR is not created', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'liveorders-port-'));
    dirs.push(parent);
    const dataDir = join(parent, 'data');
    const res = await run(process.execPath, ['--import', 'tsx', MAIN], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /EADDRINUSE.*the port is taken/);
    assert.equal(existsSync(dataDir), false, 'DATA_DIR was created before the port clash was found');
  });

  test('STORAGE=memory warns that nothing will be kept', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, PORT: '0', STORAGE: 'memory', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('liveorders: http://')) resolve();
      });
      void exited.then(() => reject(new Error(`exited early: ${stderr}`)));
    });
    child.kill('SIGTERM');
    await exited;
    const warning = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.msg.startsWith('STORAGE=memory'));
    assert.ok(warning !== undefined, stderr);
    assert.equal(warning.level, 'warn');
    assert.match(warning.msg, /every one is lost when it stops/);
  });
});
