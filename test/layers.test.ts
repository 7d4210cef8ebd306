/**
 * Layers without loops: no module of src/, client/ or cli/ reaches itself
 * through its imports, and the domain imports nothing above it.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { importCycles, importSpecifiers, importsLeaving, layerGraph, layerOf, readImportGraph } from './import-graph.ts';

describe('the import graph reader', () => {
  test('reads every form of import and export, across lines, and nothing else', () => {
    const source = [
      "import { a, type B } from './a.ts';",
      'import {',
      '  c, // why c',
      '  d,',
      "} from '../c.ts';",
      "import type { E } from './e.ts';",
      "import * as f from './f.ts';",
      "import './side-effect.ts';",
      "export * from './g.ts';",
      "export { h } from './h.ts';",
      "const lazy = await import('./lazy.ts');",
      "import WebSocket from 'ws';",
      "const text = 'import x from \"./not-an-import.ts\"';",
      'export function f(a: number) {',
      "  return a; // from './not-either.ts'",
      '}',
    ].join('\n');
    assert.deepEqual(importSpecifiers(source), [
      './a.ts',
      '../c.ts',
      './e.ts',
      './f.ts',
      './side-effect.ts',
      './g.ts',
      './h.ts',
      './lazy.ts',
      'ws',
    ]);
  });

  test('finds a cycle and says which modules make it', () => {
    const graph = new Map([
      ['x/a.ts', ['x/b.ts']],
      ['x/b.ts', ['x/c.ts', 'x/d.ts']],
      ['x/c.ts', ['x/a.ts']],
      ['x/d.ts', ['x/d.ts']],
      ['x/e.ts', ['x/a.ts']],
    ]);
    assert.deepEqual(importCycles(graph), ['x/a.ts → x/b.ts → x/c.ts → x/a.ts', 'x/d.ts → x/d.ts']);
    assert.deepEqual(importCycles(new Map([['x/a.ts', ['x/b.ts']], ['x/b.ts', []]])), []);
  });

  test('gathers modules into layers: the top folder, or the file beside the folders', () => {
    assert.deepEqual(['src/store/journal/open.ts', 'src/store.ts', 'client/ui/dom.ts', 'client/main.ts'].map(layerOf), ['src/store', 'src/store.ts', 'client/ui', 'client/main.ts']);
    const graph = new Map([
      ['src/a/x.ts', ['src/a/y.ts', 'src/b/z.ts']],
      ['src/a/y.ts', []],
      ['src/b/z.ts', ['src/a/y.ts']],
    ]);
    assert.deepEqual(importCycles(layerGraph(graph)), ['src/a → src/b → src/a'], 'no file cycle, but the layers loop');
  });

  test('says which imports leave a folder', () => {
    const graph = new Map([
      ['src/domain/a.ts', ['src/domain/b.ts', 'src/protocol/c.ts']],
      ['src/protocol/c.ts', ['src/domain/a.ts']],
    ]);
    assert.deepEqual(importsLeaving(graph, 'src/domain'), ['src/domain/a.ts → src/protocol/c.ts']);
  });
});

describe('the layers of src/, client/ and cli/', () => {
  const graph = readImportGraph();

  test('reads the whole application', () => {
    for (const module of ['src/server.ts', 'src/domain/decide.ts', 'client/main.ts', 'cli/ws-client.ts']) {
      assert.ok(graph.has(module), `${module} is in the graph`);
    }
  });

  test('no module imports itself, directly or through others', () => {
    assert.deepEqual(importCycles(graph), [], 'import cycles');
  });

  test('no two layers import each other, directly or through others (src/security, src/store, client/ui…)', () => {
    assert.deepEqual(importCycles(layerGraph(graph)), [], 'cycles between layers');
  });

  test('the domain imports nothing outside src/domain', () => {
    assert.deepEqual(importsLeaving(graph, 'src/domain'), [], 'imports leaving the domain');
  });
});
