/**
 * Ctrl-C ends the terminal client with exit code 0, as `--help` and the
 * README say, also when it runs under `npm run -s watch` or `npx
 * liveorders-watch`: there npm's `sh -c` re-raises a SIGINT and npm turns
 * it into 130 (see cli/keys.ts), so the client reads Ctrl-C as a key. These
 * tests type it into a real pseudo-terminal.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { EXIT } from '../cli/args.ts';
import { postOrder, startServer, type TestServer } from './helpers.ts';
import { Cli, PSEUDO_TERMINAL } from './cli-process.ts';

const srv: TestServer = await startServer();
after(srv.close);

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_Z = '\u001a';

/**
 * A shell command that runs `command` and then says whether the terminal's
 * mode is as it was before, and exits with the command's code.
 */
function restoringTerminal(command: string): string {
  return `before=$(stty -g); ${command}; code=$?; [ "$(stty -g)" = "$before" ] && echo terminal-restored; exit $code`;
}

test('run directly (node cli/bin.js), SIGTERM and SIGINT to the client exit 0, as the README tells scripts', async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`], { bin: true });
    await cli.until((out) => out.includes('(no orders)'), 'the snapshot');
    cli.child.kill(signal);
    assert.equal(await cli.exited, EXIT.ok, signal);
  }
});

describe('Ctrl-C in a terminal', { skip: PSEUDO_TERMINAL.skip }, () => {
  for (const [name, command] of [
    ['npm run -s watch', `npm run -s watch -- --url ${srv.wsBase}/ws`],
    ['npx liveorders-watch', `npx liveorders-watch --url ${srv.wsBase}/ws`],
  ] as const) {
    test(`${name}: exits 0 and gives the terminal back as it was`, async () => {
      const cli = new Cli({ terminal: restoringTerminal(command) });
      await cli.until((out) => out.includes('(no orders)'), 'the snapshot');
      cli.type(CTRL_C);
      assert.equal(await cli.exited, EXIT.ok, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /terminal-restored/);
    });
  }

  test('npm run -s watch -- -i: Ctrl-C at the prompt exits 0; so does Ctrl-D', async () => {
    const interrupted = new Cli({ terminal: restoringTerminal(`npm run -s watch -- --url ${srv.wsBase}/ws -i`) });
    await interrupted.until((out) => out.includes('> '), 'the prompt');
    interrupted.type('{"type":"ping","id":"p1"}\r');
    await interrupted.until((out) => out.includes('pong p1'), 'the pong');
    interrupted.type('{"type":"pi'); // half typed
    interrupted.type(CTRL_C);
    assert.equal(await interrupted.exited, EXIT.ok, interrupted.stdout);
    assert.match(interrupted.stdout, /terminal-restored/);

    const ended = new Cli({ terminal: restoringTerminal(`npm run -s watch -- --url ${srv.wsBase}/ws -i`) });
    await ended.until((out) => out.includes('> '), 'the prompt');
    ended.type('{oops\r');
    await ended.until((out) => out.includes('not sent: Malformed JSON'), 'the local error');
    ended.type(CTRL_D);
    assert.equal(await ended.exited, EXIT.ok, ended.stdout);
    assert.match(ended.stdout, /terminal-restored/);
  });

  test('Ctrl-Z still suspends the whole job, fg continues it, and Ctrl-C then exits 0', async (t) => {
    // An interactive bash with job control, as a person's terminal has (PS1 from an rc file: a
    // non-interactive shell between here and there would drop it from the environment).
    const dir = mkdtempSync(join(tmpdir(), 'liveorders-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const rc = join(dir, 'bashrc');
    writeFileSync(rc, "PS1='prompt$ '\n");
    const cli = new Cli({ terminal: `bash --noprofile --rcfile ${rc} -i` });
    const prompts = (out: string): number => out.split('prompt$ ').length - 1;
    await cli.until((out) => prompts(out) === 1, 'the shell');
    cli.type(`npm run -s watch -- --url ${srv.wsBase}/ws\r`);
    await cli.until((out) => out.includes('(no orders)'), 'the snapshot');
    cli.type(CTRL_Z);
    await cli.until((out) => /Stopped/.test(out) && prompts(out) === 2, 'the job to stop and the prompt to come back');
    cli.type('fg\r');
    await cli.until((out) => /fg\r?\n.*npm run -s watch/s.test(out), 'the job to come back');
    await postOrder(srv.base, 'After fg');
    await cli.until((out) => out.includes('After fg'), 'an event printed after fg');
    cli.type(CTRL_C);
    await cli.until((out) => prompts(out) === 3, 'the prompt after Ctrl-C');
    cli.type('echo "exit=$?"; exit\r');
    await cli.exited;
    assert.match(cli.stdout, /exit=0/);
  });
});
