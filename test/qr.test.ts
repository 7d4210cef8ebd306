/**
 * The QR encoder (client/qr.ts) against the standard: Reed–Solomon codewords
 * of ISO/IEC 18004's worked example (Annex I, "01234567" at 1-M), the format
 * and version information tables, byte-mode codewords worked out by hand, a
 * whole symbol checked once with a scanner (zbarimg) and kept as a fixture,
 * and, where zbarimg is installed, every mask and version actually scanned.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { requirement } from './requirements.ts';
import {
  QR_QUIET_ZONE,
  QrTooLongError,
  dataCodewordsFor,
  encodeQr,
  formatBits,
  interleave,
  reedSolomonRemainder,
  versionBits,
  type QrCode,
} from '../client/qr.ts';

/** A real scanner: Debian's zbar-tools, which `.ci/run` installs; skipped on a laptop without it. */
const ZBARIMG = 'zbarimg';
const scanner = requirement(ZBARIMG, ['--version'], 'a QR scanner to read the symbols back (apt-get install zbar-tools)');

/** Annex I: "01234567" in numeric mode at 1-M, its 16 data codewords and the 10 error correction codewords the standard lists. */
const ANNEX_I_DATA = [0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11];
const ANNEX_I_EC = [0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55];

/** Table C.1: the 15 format bits of level M, masks 0 to 7 (after the 101010000010010 XOR). */
const FORMAT_M = ['101010000010010', '101000100100101', '101111001111100', '101101101001011', '100010111111001', '100000011001110', '100111110010111', '100101010100000'];

/** Table D.1: version information of versions 7 to 10. */
const VERSION_INFO: Readonly<Record<number, string>> = {
  7: '000111110010010100',
  8: '001000010110111100',
  9: '001001101010011001',
  10: '001010010011010011',
};

/** This URL's symbol (4-M, mask 6), scanned with zbarimg when it was made; a change to any module is a change of encoder. */
const GOLDEN_TEXT = 'https://shop.example/track/AAAAAAAAAAAAAAAAAAAAAA';
const GOLDEN = [
    '#######.#...####.#...##...#######',
    '#.....#.###.###.#.##....#.#.....#',
    '#.###.#.#.##.####...##.#..#.###.#',
    '#.###.#..##...#.#.###..##.#.###.#',
    '#.###.#.#..#...###...#.#..#.###.#',
    '#.....#..###...###.#...#..#.....#',
    '#######.#.#.#.#.#.#.#.#.#.#######',
    '.........#####.##.#...#.#........',
    '#..######.#..##.##......##..#.###',
    '..#.##.##..#.##..#.##..##...###.#',
    '#..#.######.##.##....#.##.#.#####',
    '#..##....##..#..#.#.#..###.#..##.',
    '......#.######.#.#.#.#.##.###..##',
    '..#.#...#..####...####...###..#..',
    '#.....##.#.#####.######...#.###..',
    '.##..#.######.#.#.#.#.#.##..###.#',
    '#..##.##..#..#.#....#.##.######..',
    '######.###.##....####.#..##.#.#..',
    '#.#..#######.#.#.#######.###.##.#',
    '.##..#.#.#.#...##..#..##..#.###.#',
    '....#.#.#####.#.#.#..#.##..###.#.',
    '#.##....#...##........#...###.#..',
    '#....###.#.#.##..#####.#..#...###',
    '#..#......#.####.#.##..####.#.##.',
    '###...#.#.##.##.#...#..##########',
    '........##.###.#.##.....#...#.###',
    '#######.#.####.#.#.#.####.#.#.#..',
    '#.....#.#.##..#####.#..##...#####',
    '#.###.#.##...#..##..#########...#',
    '#.###.#.#####...###..#####.#.####',
    '#.###.#..##....#..##.#.#.#.##.###',
    '#.....#..##.#.#....##.#.#########',
    '#######.#.##...###.##..##..##.#..',
];

function rows(code: QrCode): string[] {
  return code.modules.map((row) => row.map((dark) => (dark ? '#' : '.')).join(''));
}

/** The symbol as a PBM image (what zbarimg reads), with its quiet zone, `scale` pixels per module. */
function pbm(code: QrCode, scale = 4): string {
  const n = (code.size + 2 * QR_QUIET_ZONE) * scale;
  const lines: string[] = [];
  for (let y = 0; y < n; y++) {
    const line: string[] = [];
    for (let x = 0; x < n; x++) {
      const dark = code.modules[Math.floor(y / scale) - QR_QUIET_ZONE]?.[Math.floor(x / scale) - QR_QUIET_ZONE] ?? false;
      line.push(dark ? '1' : '0');
    }
    lines.push(line.join(' '));
  }
  return `P1\n${n} ${n}\n${lines.join('\n')}\n`;
}

describe('QR encoder', () => {
  test('Reed–Solomon: the error correction codewords of the standard\'s worked example', () => {
    assert.deepEqual(reedSolomonRemainder(ANNEX_I_DATA, 10), ANNEX_I_EC);
    // One block at 1-M: the symbol holds the data, then the error correction.
    assert.deepEqual(interleave(1, ANNEX_I_DATA), [...ANNEX_I_DATA, ...ANNEX_I_EC]);
  });

  test('format and version information match the standard\'s tables', () => {
    for (let mask = 0; mask < 8; mask++) assert.equal(formatBits(mask).toString(2).padStart(15, '0'), FORMAT_M[mask], `mask ${mask}`);
    for (const [version, bits] of Object.entries(VERSION_INFO)) assert.equal(versionBits(Number(version)).toString(2).padStart(18, '0'), bits, `version ${version}`);
  });

  test('byte mode codewords of "hello", worked out by hand: mode, count, bytes, terminator, pad bytes', () => {
    // 0100 00000101 01101000 01100101 01101100 01101100 01101111 0000, then 11101100 00010001 ...
    const expected = [0x40, 0x56, 0x86, 0x56, 0xc6, 0xc6, 0xf0, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec];
    assert.deepEqual(dataCodewordsFor(new TextEncoder().encode('hello'), 1), expected);
  });

  test('interleaving of a version with blocks of two lengths (9-M: three of 36 data codewords, two of 37)', () => {
    const data = Array.from({ length: 182 }, (_, i) => i);
    const out = interleave(9, data);
    assert.equal(out.length, 292, 'all codewords of version 9');
    // First codewords of the five blocks, then their second ones...; the two long blocks alone give the 37th.
    assert.deepEqual(out.slice(0, 5), [0, 36, 72, 108, 145]);
    assert.deepEqual(out.slice(175, 182), [35, 71, 107, 143, 180, 144, 181]);
    assert.deepEqual(out.slice(182, 182 + 5), [0, 1, 2, 3, 4].map((b) => reedSolomonRemainder(data.slice(...blockRange(b)), 22)[0]));
  });

  test('a URL gives the symbol that was scanned when the fixture was made', () => {
    const code = encodeQr(GOLDEN_TEXT);
    assert.equal(code.version, 4);
    assert.deepEqual(rows(code), GOLDEN);
  });

  test('the function patterns are where a scanner looks, and both copies of the format information agree', () => {
    for (const text of ['a', 'x'.repeat(60), 'y'.repeat(150)]) {
      const code = encodeQr(text);
      const { size, modules } = code;
      assert.equal(size, 17 + 4 * code.version);
      const finder = ['#######', '#.....#', '#.###.#', '#.###.#', '#.###.#', '#.....#', '#######'];
      for (const [r0, c0] of [[0, 0], [0, size - 7], [size - 7, 0]] as const) {
        assert.deepEqual(finder.map((_, r) => modules[r0 + r]!.slice(c0, c0 + 7).map((d) => (d ? '#' : '.')).join('')), finder);
      }
      for (let i = 8; i < size - 8; i++) {
        assert.equal(modules[6]![i], i % 2 === 0, `timing row at ${i}`);
        assert.equal(modules[i]![6], i % 2 === 0, `timing column at ${i}`);
      }
      assert.equal(modules[size - 8]![8], true, 'the dark module');
      const bit = (row: number, column: number): string => (modules[row]![column] ? '1' : '0');
      const first = [bit(8, 0), bit(8, 1), bit(8, 2), bit(8, 3), bit(8, 4), bit(8, 5), bit(8, 7), bit(8, 8), bit(7, 8), bit(5, 8), bit(4, 8), bit(3, 8), bit(2, 8), bit(1, 8), bit(0, 8)].join('');
      const second = [...Array.from({ length: 7 }, (_, i) => bit(size - 1 - i, 8)), ...Array.from({ length: 8 }, (_, i) => bit(8, size - 8 + i))].join('');
      assert.equal(first, FORMAT_M[code.mask], 'format information beside the top-left finder, most significant bit first');
      assert.equal(second, FORMAT_M[code.mask], 'and its second copy');
    }
  });

  test('the smallest version that holds the text; more than version 10 holds is refused', () => {
    assert.equal(encodeQr('x'.repeat(14)).version, 1);
    assert.equal(encodeQr('x'.repeat(15)).version, 2);
    assert.equal(encodeQr('x'.repeat(213)).version, 10);
    assert.throws(() => encodeQr('x'.repeat(214)), QrTooLongError);
  });

  test('zbarimg scans every mask of several versions back to the text', scanner, () => {
    const dir = mkdtempSync(join(tmpdir(), 'liveorders-qr-'));
    try {
      const file = join(dir, 'symbol.pbm');
      const texts = ['01234567', 'http://127.0.0.1:41234/track/AbCdEfGhIjKlMnOpQrStUw', 'Zürich ✓ ' + 'y'.repeat(120), 'b'.repeat(213)];
      for (const text of texts) {
        for (let mask = 0; mask < 8; mask++) {
          const code = encodeQr(text, mask);
          writeFileSync(file, pbm(code));
          const read = execFileSync(ZBARIMG, ['-q', '--raw', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().replace(/\n$/, '');
          assert.equal(read, text, `version ${code.version}, mask ${mask}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Data codeword range of block `b` at 9-M (three blocks of 36, then two of 37). */
function blockRange(b: number): [number, number] {
  const start = b < 3 ? b * 36 : 108 + (b - 3) * 37;
  return [start, start + (b < 3 ? 36 : 37)];
}
