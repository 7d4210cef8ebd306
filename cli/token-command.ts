/**
 * @module cli/token-command
 * `--token-command CMD`: a fresh access token from a command the user
 * trusts (a password manager, `oidc-agent`, a script around the identity
 * provider), run through the shell, bounded in time and output.
 */

import { execFile } from 'node:child_process';
import { isBearerToken } from './args.ts';
import type { Result } from '../src/protocol.ts';

/** How long the command may take, in milliseconds (a person may have to confirm on a device). */
export const TOKEN_COMMAND_TIMEOUT_MS = 60_000;

/** Most output read from it, in bytes. */
const TOKEN_COMMAND_MAX_BYTES = 64 * 1024;

/**
 * Run `command` with `sh -c` and take the token it prints (surrounding white space dropped).
 * @param command the shell command
 * @returns the token, or why none came
 */
export function runTokenCommand(command: string): Promise<Result<string, string>> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: TOKEN_COMMAND_TIMEOUT_MS, maxBuffer: TOKEN_COMMAND_MAX_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null) {
        const why = error.killed ? `it did not finish within ${TOKEN_COMMAND_TIMEOUT_MS / 1000} s` : `it failed (${error.code ?? error.message})${stderr.trim() === '' ? '' : `: ${stderr.trim().slice(0, 200)}`}`;
        return resolve({ ok: false, error: `--token-command: ${why}` });
      }
      const token = stdout.trim();
      if (!isBearerToken(token)) return resolve({ ok: false, error: '--token-command: it did not print a token (visible ASCII without spaces)' });
      resolve({ ok: true, value: token });
    });
  });
}
