/**
 * @module cli/npm-flags
 * `npm run -s watch --json` (without `--`) hands `--json` to npm, not to the
 * client: npm keeps it as its own setting and tells the script only through
 * the environment (`npm_config_json=true`). The client cannot take those
 * flags back safely (npm's own settings live there too), but it can say so.
 */

/** The client's long options, as npm would name them in `npm_config_*`. */
const CLIENT_FLAGS = ['url', 'json', 'order', 'status', 'limit', 'once', 'count', 'until', 'timeout', 'send', 'heartbeat', 'token', 'track', 'width', 'interactive', 'color'] as const;

/**
 * The flags npm took for itself on this run, in the client's spelling
 * (`--no-color` for `color`), leaving out any the client was given as well.
 * @param env the environment (only read when npm ran the client: `npm_lifecycle_event` is set)
 * @param argv the client's own arguments
 */
export function flagsNpmKept(env: NodeJS.ProcessEnv, argv: readonly string[]): string[] {
  if (env.npm_lifecycle_event === undefined) return [];
  const kept: string[] = [];
  for (const name of CLIENT_FLAGS) {
    if (env[`npm_config_${name}`] === undefined) continue;
    const flag = name === 'color' ? '--no-color' : `--${name}`;
    if (argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`))) continue;
    kept.push(flag);
  }
  return kept;
}

/**
 * The warning for {@link flagsNpmKept}, or undefined when there is none.
 * @param kept the flags
 */
export function npmFlagsWarning(kept: readonly string[]): string | undefined {
  if (kept.length === 0) return undefined;
  const list = kept.join(' ');
  return `npm kept ${list} for itself, so this client did not get ${kept.length === 1 ? 'it' : 'them'}: put client options after --, as in npm run -s watch -- ${list}`;
}
