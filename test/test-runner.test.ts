/**
 * `npm test`'s runner (scripts/test.ts) as a real process: spec output in a
 * terminal, TAP with its closing `# pass`/`# fail` lines when piped, no
 * ExperimentalWarning, and a failing suite's exit code passed on.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PROJECT, PSEUDO_TERMINAL } from './cli-process.ts';

const RUNNER = ['--import', 'tsx', 'scripts/test.ts'];
const SAMPLE = 'test/fixtures/runner-sample.ts';

/** This process's environment without what makes a nested `node --test` report to this run instead of printing. */
function freshEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return { ...env, NODE_OPTIONS: '' };
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT, env: freshEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('npm test runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-runner-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('piped: TAP with the closing summary lines, and no ExperimentalWarning', async () => {
    const res = await run(process.execPath, [...RUNNER, SAMPLE]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^# pass 1$/m);
    assert.match(res.stdout, /^# fail 0$/m);
    assert.doesNotMatch(res.stdout + res.stderr, /ExperimentalWarning/);
  });

  test('in a terminal: the spec reporter (✔ lines, ℹ pass)', { skip: PSEUDO_TERMINAL.skip }, async () => {
    const res = await run('script', ['--quiet', '--return', '--command', `NODE_OPTIONS= ${process.execPath} ${RUNNER.join(' ')} ${SAMPLE}`, '/dev/null']);
    assert.equal(res.code, 0, res.stdout);
    assert.match(res.stdout, /✔ a sample that passes/);
    assert.match(res.stdout, /ℹ pass 1/);
    assert.doesNotMatch(res.stdout, /^TAP version/m);
    assert.doesNotMatch(res.stdout, /ExperimentalWarning/);
  });

  test('a failing test: exit code 1 and # fail 1', async () => {
    const failing = join(dir, 'failing.ts');
    writeFileSync(failing, "import { test } from 'node:test';\ntest('fails', () => { throw new Error('no'); });\n");
    const res = await run(process.execPath, [...RUNNER, failing]);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /^# fail 1$/m);
  });
});
