/**
 * The import graph of the project's own code, read from the import and
 * export statements of its .ts files (relative specifiers only: packages and
 * `node:` modules are leaves), and the cycles in it. Type-only imports count:
 * a layer that names another's types depends on it as much as one that calls it.
 *
 * Run directly to print the graph's cycles: `node --import tsx test/import-graph.ts`.
 */

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folders whose modules make up the application (tests and benchmarks are not part of its layers). */
export const APP_FOLDERS = ['src', 'client', 'cli'] as const;

/** Root-relative path (with `/`) → the root-relative paths it imports, in the order written. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/**
 * Static `import … from '…'`, `export … from '…'`, `import '…'` and dynamic
 * `import('…')`. Between the keyword and `from` only what an import clause
 * may hold is allowed (names, braces, commas, `*`, comments), so code that
 * merely contains the word "from" later on is never taken for an import.
 */
const IMPORT_PATTERN =
  /^[ \t]*(?:import|export)(?:\s+type)?(?:[\s\w${},*]|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*?\bfrom\s*['"]([^'"\n]+)['"]|^[ \t]*import\s*['"]([^'"\n]+)['"]|\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/gm;

/**
 * Every module specifier a TypeScript source imports from.
 * @param source the file's text
 */
export function importSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier !== undefined) specifiers.push(specifier);
  }
  return specifiers;
}

/** Every .ts (and .js) source under `folder` (absolute paths), sorted. */
function tsFiles(folder: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) files.push(...tsFiles(path));
    else if ((name.endsWith('.ts') && !name.endsWith('.d.ts')) || name.endsWith('.js')) files.push(path);
  }
  return files;
}

/** A repository path in the form the reports use: root-relative, with `/`. */
function repoPath(absolute: string, root: string): string {
  return relative(root, absolute).split(sep).join('/');
}

/**
 * Where a relative specifier points, as a root-relative path, or undefined
 * for a package or `node:` import. A `.js` that does not exist is read as its `.ts` source.
 */
function resolveSpecifier(fromFile: string, specifier: string, root: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  const source = specifier.endsWith('.js') && !existsSync(target) ? `${target.slice(0, -3)}.ts` : target;
  return repoPath(source, root);
}

/**
 * Read the import graph of the .ts files under `folders`.
 * @param root the repository root
 * @param folders root-relative folders to read
 */
export function readImportGraph(root: string = ROOT, folders: readonly string[] = APP_FOLDERS): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const folder of folders) {
    for (const file of tsFiles(join(root, folder))) {
      const targets = importSpecifiers(readFileSync(file, 'utf8'))
        .map((specifier) => resolveSpecifier(file, specifier, root))
        .filter((target): target is string => target !== undefined);
      graph.set(repoPath(file, root), [...new Set(targets)]);
    }
  }
  return graph;
}

/**
 * The strongly connected components of the graph with more than one module
 * (or one that imports itself): each is a knot of modules that all reach one
 * another. Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
 * @param graph an import graph
 */
export function importKnots(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const knots: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const targets = (graph.get(frame.node) ?? []).filter((target) => graph.has(target));
      if (frame.edge < targets.length) {
        const target = targets[frame.edge++]!;
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, edge: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const knot: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        knot.push(member);
      } while (member !== frame.node);
      if (knot.length > 1 || (graph.get(frame.node) ?? []).includes(frame.node)) knots.push(knot.sort());
    }
  }
  return knots;
}

/**
 * The shortest import path from `from` back to itself, staying inside `within`.
 * @returns the modules on the way, starting and ending with `from`
 */
function shortestCycle(graph: ImportGraph, from: string, within: ReadonlySet<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const target of graph.get(node) ?? []) {
      if (!within.has(target)) continue;
      if (target === from) {
        const path = [from];
        for (let step = node; step !== from; step = cameFrom.get(step)!) path.splice(1, 0, step);
        return [...path, from];
      }
      if (cameFrom.has(target)) continue;
      cameFrom.set(target, node);
      queue.push(target);
    }
  }
  return [];
}

/**
 * Every distinct cycle found by taking, for each module in a knot, the
 * shortest import path from it back to itself; each written
 * `a.ts → b.ts → a.ts`, starting at its alphabetically first module.
 * @param graph an import graph
 */
export function importCycles(graph: ImportGraph): string[] {
  const cycles = new Set<string>();
  for (const knot of importKnots(graph)) {
    const members = new Set(knot);
    for (const module of knot) {
      const cycle = shortestCycle(graph, module, members).slice(0, -1);
      if (cycle.length === 0) continue;
      const first = cycle.indexOf([...cycle].sort()[0]!);
      const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
      cycles.add([...rotated, rotated[0]].join(' → '));
    }
  }
  return [...cycles].sort();
}

/**
 * Imports that leave a folder which must depend on nothing outside itself.
 * @param graph an import graph
 * @param folder a root-relative folder, e.g. `src/domain`
 * @returns `importer → imported` for each offending import
 */
export function importsLeaving(graph: ImportGraph, folder: string): string[] {
  const inside = (path: string): boolean => path.startsWith(`${folder}/`);
  const leaving: string[] = [];
  for (const [module, targets] of graph) {
    if (!inside(module)) continue;
    for (const target of targets) if (!inside(target)) leaving.push(`${module} → ${target}`);
  }
  return leaving;
}

/**
 * The layer a module belongs to: its top folder under `src/`, `client/` or
 * `cli/` (`src/store/journal/x.ts` is `src/store`); a file beside those
 * folders is a layer of its own (`src/store.ts`, the entry point that
 * chooses a backend, may import what imports `src/store/`).
 * @param module a root-relative path
 */
export function layerOf(module: string): string {
  const [top, next, ...rest] = module.split('/');
  return rest.length > 0 ? `${top}/${next}` : module;
}

/**
 * The graph of layers: an edge wherever a module of one imports a module of another.
 * @param graph an import graph
 */
export function layerGraph(graph: ImportGraph): ImportGraph {
  const layers = new Map<string, Set<string>>();
  for (const [module, targets] of graph) {
    const from = layerOf(module);
    const edges = layers.get(from) ?? new Set<string>();
    for (const target of targets) if (layerOf(target) !== from) edges.add(layerOf(target));
    layers.set(from, edges);
  }
  return new Map([...layers].map(([layer, edges]) => [layer, [...edges]]));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const graph = readImportGraph();
  const knots = importKnots(graph);
  const cycles = importCycles(graph);
  process.stdout.write(`${graph.size} modules, ${knots.length} knot(s) of mutually importing modules, ${cycles.length} cycle(s)\n`);
  for (const knot of knots) process.stdout.write(`knot of ${knot.length}: ${knot.join(', ')}\n`);
  for (const cycle of cycles) process.stdout.write(`cycle: ${cycle}\n`);
  for (const cycle of importCycles(layerGraph(graph))) process.stdout.write(`cycle between layers: ${cycle}\n`);
  for (const line of importsLeaving(graph, 'src/domain')) process.stdout.write(`domain imports from above: ${line}\n`);
  process.exitCode = cycles.length > 0 ? 1 : 0;
}
