/**
 * The page's bundle: it builds, it carries the shared stream core, and
 * nothing in it comes from a package or a Node module (the core runs in the
 * browser as it runs in the CLI).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import { bundleClient } from '../src/transport/http/page.ts';
import { ROOT } from './import-graph.ts';

test('the page bundles, with the stream core and without a package or Node module', async () => {
  const bundled = await bundleClient();
  assert.ok(bundled.body.length > 0);
  const result = await build({ entryPoints: [`${ROOT}/client/main.ts`], bundle: true, write: false, metafile: true, format: 'esm', logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('client/stream/resuming-stream.ts'), `the core is in the bundle: ${inputs.join(', ')}`);
  assert.ok(inputs.includes('client/connection.ts'));
  const foreign = inputs.filter((input) => !/^(client|src\/protocol|src\/domain)[/.]/.test(input));
  assert.deepEqual(foreign, [], 'inputs from outside the page, the protocol and the domain');
});
