/**
 * Instructions per in-process `POST /api/orders`, counted by valgrind's
 * callgrind: the figure to use when a change is worth a few percent, because
 * CPU time on this shared machine moves by 20% between minutes.
 *
 *   npx tsx bench/instructions.ts [liveorders|keep|bare ...] [--count N]
 *
 * Each variant runs bench/handler-cpu.ts twice under callgrind, with 20,000
 * and 20,000 + N requests (N = 40,000 unless `--count` says otherwise); the
 * difference divided by N is the cost of one request with start-up and
 * warm-up taken out. Functions are split into the garbage collector, the
 * compilers and the rest ("mutator": our code, node:http, builtins), which
 * is the column to compare. With 5,000 requests as the base, V8 was still
 * moving functions between tiers during the measured part: the same tree
 * gave 78k and 92k mutator instructions in two runs. From 20,000 on, two
 * runs of one tree agreed within 4% (85.5k, 89.0k) and the compiler column
 * shrank (-1k to 10k per request, against -15k to 45k). Needs `valgrind`
 * (Debian package); about five minutes for the three variants. Not for
 * changes that depend on time: under valgrind a millisecond sees one or two
 * requests, so the id runs of order-id.ts never grow past one or two.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const BASE_COUNT = 20_000;
const HANDLER = new URL('./handler-cpu.ts', import.meta.url).pathname;

/** Functions of V8's garbage collector, by name. */
const GC_FUNCTION = /Scaveng|Marking|Sweep|heap::|Heap::|MemoryChunk|Evacuat|MarkCompact|Concurrent|Remembered|SlotSet|BodyDescriptor|IteratePointers|ObjectVisitor|Worklist|LargeObject|MemoryAllocator|PagedSpace|FreeList|GCTracer/;
/** Functions of V8's parsers and compilers, by name. */
const COMPILER_FUNCTION = /compiler::|maglev|Maglev|turboshaft|BytecodeGenerator|Parser|Zone|RegisterAllocat|interpreter::Bytecode|Scanner|InstructionSelector|CodeGenerator|Assembler|GraphReduc|Typer|LiveRange|SourcePosition/;

type Split = Record<'mutator' | 'gc' | 'compiler', number>;

/** Self instructions per function in one callgrind output file. */
async function instructionsByFunction(file: string): Promise<Map<string, number>> {
  const { stdout } = await run('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { maxBuffer: 256 * 1024 * 1024 });
  const byFunction = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*?)\s*(\[.*\])?$/.exec(line);
    if (m === null || line.includes('PROGRAM TOTALS')) continue;
    byFunction.set(m[2]!, (byFunction.get(m[2]!) ?? 0) + Number(m[1]!.replaceAll(',', '')));
  }
  return byFunction;
}

/** Run `count` requests of `variant` under callgrind; resolves with its output file. */
async function callgrind(dir: string, variant: string, count: number): Promise<string> {
  const file = join(dir, `${variant}.${count}.out`);
  await run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${file}`, process.execPath, '--import', 'tsx', HANDLER, variant, String(count)], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return file;
}

/** Instructions per request of `variant`, split by kind. */
async function measure(dir: string, variant: string, extra: number): Promise<Split> {
  const [small, large] = await Promise.all([callgrind(dir, variant, BASE_COUNT), callgrind(dir, variant, BASE_COUNT + extra)]);
  const [before, after] = await Promise.all([instructionsByFunction(small), instructionsByFunction(large)]);
  const split: Split = { mutator: 0, gc: 0, compiler: 0 };
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const perRequest = ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / extra;
    split[GC_FUNCTION.test(name) ? 'gc' : COMPILER_FUNCTION.test(name) ? 'compiler' : 'mutator'] += perRequest;
  }
  return split;
}

const args = process.argv.slice(2);
const countAt = args.indexOf('--count');
const extra = countAt === -1 ? 40_000 : Number(args[countAt + 1]);
const variants = args.filter((a, i) => !a.startsWith('--') && (countAt === -1 || i !== countAt + 1));
const dir = await mkdtemp(join(tmpdir(), 'liveorders-callgrind-'));
try {
  const rows: Record<string, Split & { total: number }> = {};
  for (const variant of variants.length > 0 ? variants : ['keep', 'liveorders']) {
    const split = await measure(dir, variant, extra);
    rows[variant] = { ...split, total: split.mutator + split.gc + split.compiler };
  }
  const rounded = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([m, n]) => [m, Math.round(n)]))]));
  console.log(`instructions per in-process POST (${BASE_COUNT} vs ${BASE_COUNT + extra} requests)`);
  console.table(rounded);
} finally {
  await rm(dir, { recursive: true, force: true });
}
