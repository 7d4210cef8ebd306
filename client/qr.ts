/**
 * @module client/qr
 * A small QR Code encoder (ISO/IEC 18004) for the customer links the board
 * shows: byte mode, error correction level M, versions 1 to 10 (up to 213
 * bytes, plenty for a `/track/TOKEN` URL), Reed–Solomon over GF(256) and the
 * usual choice of the mask with the lowest penalty. Pure functions, no DOM:
 * client/ui/share.ts draws the modules as SVG. Written here rather than added as a
 * dependency; the page needs only this much of the standard.
 */

/** The smallest and largest version this encoder makes. */
export const QR_MIN_VERSION = 1;
export const QR_MAX_VERSION = 10;

/** Light modules around the symbol, as the standard asks for scanners to find it. */
export const QR_QUIET_ZONE = 4;

/** An encoded symbol: `modules[row][column]`, true for dark. */
export interface QrCode {
  readonly version: number;
  /** Modules per side: 17 + 4 × version. */
  readonly size: number;
  /** The mask pattern used (0..7). */
  readonly mask: number;
  readonly modules: readonly (readonly boolean[])[];
}

/** Error codes of this module's errors. */
export const QR_ERROR_CODES = { tooLong: 'LO_QR_TOO_LONG' } as const;

/** Thrown when the text does not fit the largest version made here. */
export class QrTooLongError extends RangeError {
  readonly code = QR_ERROR_CODES.tooLong;
}

/** Level M's 2-bit indicator in the format information. */
const LEVEL_M_BITS = 0b00;
/** Byte mode's 4-bit indicator. */
const BYTE_MODE = 0b0100;
/** Pad codewords, alternating, after the data (11101100, 00010001). */
const PAD_BYTES = [0xec, 0x11] as const;
/** BCH generator of the format information, and the mask XORed over it so it is never all zero. */
const FORMAT_GENERATOR = 0x537;
const FORMAT_MASK = 0x5412;
/** BCH generator of the version information (versions 7 and up). */
const VERSION_GENERATOR = 0x1f25;
/** GF(256) is built on this polynomial: x^8 + x^4 + x^3 + x^2 + 1. */
const FIELD_POLYNOMIAL = 0x11d;

/** Penalty weights of the mask evaluation (N1..N4 in the standard). */
const PENALTY_RUN = 3;
const PENALTY_BLOCK = 3;
const PENALTY_FINDER_LIKE = 40;
const PENALTY_BALANCE = 10;

/** Level M, per version (index 0 unused): error correction codewords per block, and blocks. */
const EC_PER_BLOCK_M = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26];
const BLOCKS_M = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5];
/** Centres of the alignment patterns, per version. */
const ALIGNMENT_CENTRES: readonly (readonly number[])[] = [
  [],
  [],
  [6, 18],
  [6, 22],
  [6, 26],
  [6, 30],
  [6, 34],
  [6, 22, 38],
  [6, 24, 42],
  [6, 26, 46],
  [6, 28, 50],
];

/**
 * Encode `text` (as UTF-8) in the smallest version from 1 to 10 that holds it, at level M.
 * @param text what the symbol says, e.g. a URL
 * @param forceMask a mask to use instead of the best one (tests compare with worked examples)
 * @throws {QrTooLongError} when it needs more than version 10
 */
export function encodeQr(text: string, forceMask?: number): QrCode {
  const bytes = new TextEncoder().encode(text);
  let version = QR_MIN_VERSION;
  while (version <= QR_MAX_VERSION && dataBitsNeeded(bytes.length, version) > dataCodewords(version) * 8) version++;
  if (version > QR_MAX_VERSION) {
    throw new QrTooLongError(`${bytes.length} bytes do not fit a version ${QR_MAX_VERSION}-M QR code (at most ${dataCodewords(QR_MAX_VERSION) - 3})`);
  }
  const codewords = interleave(version, dataCodewordsFor(bytes, version));
  const base = drawFunctionPatterns(version);
  placeCodewords(base, codewords);
  let best: { mask: number; modules: boolean[][] } | undefined;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    if (forceMask !== undefined && mask !== forceMask) continue;
    const modules = base.modules.map((row) => [...row]);
    applyMask(modules, base.reserved, mask);
    drawFormatBits(modules, mask);
    const score = forceMask === undefined ? penalty(modules) : 0;
    if (score < bestPenalty) {
      bestPenalty = score;
      best = { mask, modules };
    }
  }
  return { version, size: base.modules.length, mask: best!.mask, modules: best!.modules };
}

/**
 * The codewords of `bytes` in byte mode for `version` at level M, before error correction:
 * mode, count, data, terminator, pad bits, pad bytes.
 * @param bytes the data
 * @param version 1..10
 */
export function dataCodewordsFor(bytes: Uint8Array, version: number): number[] {
  const capacity = dataCodewords(version) * 8;
  const bits: number[] = [];
  const push = (value: number, length: number): void => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  push(BYTE_MODE, 4);
  push(bytes.length, countBits(version));
  for (const byte of bytes) push(byte, 8);
  push(0, Math.min(4, capacity - bits.length)); // terminator
  push(0, (8 - (bits.length % 8)) % 8);
  const codewords: number[] = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  for (let i = 0; codewords.length < capacity / 8; i++) codewords.push(PAD_BYTES[i % 2]!);
  return codewords;
}

/**
 * Split data codewords into the version's blocks, add each block's error
 * correction, and interleave them as the symbol holds them.
 * @param version 1..10
 * @param data all data codewords of the version
 */
export function interleave(version: number, data: readonly number[]): number[] {
  const blocks = BLOCKS_M[version]!;
  const ecLength = EC_PER_BLOCK_M[version]!;
  const shortLength = Math.floor(data.length / blocks);
  const longBlocks = data.length % blocks;
  const dataBlocks: number[][] = [];
  for (let b = 0, at = 0; b < blocks; b++) {
    // Short blocks come first; the last `longBlocks` hold one codeword more.
    const length = shortLength + (b >= blocks - longBlocks ? 1 : 0);
    dataBlocks.push(data.slice(at, at + length));
    at += length;
  }
  const ecBlocks = dataBlocks.map((block) => reedSolomonRemainder(block, ecLength));
  const out: number[] = [];
  for (let i = 0; i <= shortLength; i++) for (const block of dataBlocks) if (i < block.length) out.push(block[i]!);
  for (let i = 0; i < ecLength; i++) for (const block of ecBlocks) out.push(block[i]!);
  return out;
}

/**
 * The `degree` error correction codewords of `data`: the remainder of
 * data(x)·x^degree divided by the generator polynomial ∏(x − α^i), i < degree.
 * @param data a block's data codewords
 * @param degree how many error correction codewords
 */
export function reedSolomonRemainder(data: readonly number[], degree: number): number[] {
  const generator = generatorPolynomial(degree);
  const remainder = new Array<number>(degree).fill(0);
  for (const byte of data) {
    const factor = byte ^ remainder.shift()!;
    remainder.push(0);
    for (let i = 0; i < degree; i++) remainder[i]! ^= gfMultiply(generator[i]!, factor);
  }
  return remainder;
}

/**
 * The 15 format information bits for level M and `mask`, BCH-protected and masked.
 * @param mask 0..7
 */
export function formatBits(mask: number): number {
  const data = (LEVEL_M_BITS << 3) | mask;
  return ((data << 10) | bchRemainder(data << 10, FORMAT_GENERATOR)) ^ FORMAT_MASK;
}

/**
 * The 18 version information bits of versions 7 and up.
 * @param version 7..40
 */
export function versionBits(version: number): number {
  return (version << 12) | bchRemainder(version << 12, VERSION_GENERATOR);
}

/** Byte-mode character count bits: 8 up to version 9, 16 from version 10. */
function countBits(version: number): number {
  return version <= 9 ? 8 : 16;
}

function dataBitsNeeded(byteCount: number, version: number): number {
  return 4 + countBits(version) + byteCount * 8;
}

/** Data codewords of `version` at level M: all codewords less the error correction ones. */
function dataCodewords(version: number): number {
  return Math.floor(rawDataModules(version) / 8) - EC_PER_BLOCK_M[version]! * BLOCKS_M[version]!;
}

/** Modules left for codewords once the function patterns are drawn (and remainder bits with them). */
function rawDataModules(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignments = Math.floor(version / 7) + 2;
    modules -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) modules -= 36;
  }
  return modules;
}

/** A symbol under construction: modules, and which of them belong to function patterns. */
interface Canvas {
  readonly modules: boolean[][];
  readonly reserved: boolean[][];
}

function drawFunctionPatterns(version: number): Canvas {
  const size = 17 + 4 * version;
  const canvas: Canvas = {
    modules: Array.from({ length: size }, () => new Array<boolean>(size).fill(false)),
    reserved: Array.from({ length: size }, () => new Array<boolean>(size).fill(false)),
  };
  const set = (row: number, column: number, dark: boolean): void => {
    canvas.modules[row]![column] = dark;
    canvas.reserved[row]![column] = true;
  };
  // Timing patterns (the finders drawn next cover their ends).
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Finder patterns with their separators.
  for (const [centreRow, centreColumn] of [[3, 3], [3, size - 4], [size - 4, 3]] as const) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const row = centreRow + dr;
        const column = centreColumn + dc;
        if (row < 0 || row >= size || column < 0 || column >= size) continue;
        const distance = Math.max(Math.abs(dr), Math.abs(dc));
        set(row, column, distance !== 2 && distance !== 4);
      }
    }
  }
  // Alignment patterns, except where they would overlap a finder.
  const centres = ALIGNMENT_CENTRES[version]!;
  for (const row of centres) {
    for (const column of centres) {
      const nearFinder = (row === 6 && column === 6) || (row === 6 && column === size - 7) || (row === size - 7 && column === 6);
      if (nearFinder) continue;
      for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(row + dr, column + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }
  // Reserve the format areas (written per mask) and draw the dark module.
  drawFormatBits(canvas.modules, 0, canvas.reserved);
  if (version >= 7) {
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      set(b, a, dark);
      set(a, b, dark);
    }
  }
  return canvas;
}

/**
 * Write the format information for `mask` in both of its places (and the dark module).
 * @param reserved when given, also mark those modules as function modules
 */
function drawFormatBits(modules: boolean[][], mask: number, reserved?: boolean[][]): void {
  const size = modules.length;
  const bits = formatBits(mask);
  const set = (row: number, column: number, bit: number): void => {
    modules[row]![column] = ((bits >>> bit) & 1) === 1;
    if (reserved !== undefined) reserved[row]![column] = true;
  };
  // Around the top-left finder: bits 0..7 down column 8, bits 8..14 along row 8 leftwards.
  for (let i = 0; i <= 5; i++) set(i, 8, i);
  set(7, 8, 6);
  set(8, 8, 7);
  set(8, 7, 8);
  for (let i = 9; i < 15; i++) set(8, 14 - i, i);
  // The second copy: bits 0..7 along row 8 from the right edge, bits 8..14 up column 8 from the bottom.
  for (let i = 0; i < 8; i++) set(8, size - 1 - i, i);
  for (let i = 8; i < 15; i++) set(size - 15 + i, 8, i);
  modules[size - 8]![8] = true; // the dark module, always dark
  if (reserved !== undefined) reserved[size - 8]![8] = true;
}

/** Place the codewords in the two-column zigzag from the bottom right, skipping function modules. */
function placeCodewords(canvas: Canvas, codewords: readonly number[]): void {
  const size = canvas.modules.length;
  const totalBits = codewords.length * 8;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // the vertical timing pattern's column is skipped whole
    const upward = ((right + 1) & 2) === 0;
    for (let step = 0; step < size; step++) {
      const row = upward ? size - 1 - step : step;
      for (let j = 0; j < 2; j++) {
        const column = right - j;
        if (canvas.reserved[row]![column] || i >= totalBits) continue;
        canvas.modules[row]![column] = ((codewords[i >>> 3]! >>> (7 - (i & 7))) & 1) === 1;
        i++;
      }
    }
  }
}

/**
 * Whether mask `mask` flips the module at (`row`, `column`).
 * @param mask 0..7
 */
export function maskFlips(mask: number, row: number, column: number): boolean {
  switch (mask) {
    case 0:
      return (row + column) % 2 === 0;
    case 1:
      return row % 2 === 0;
    case 2:
      return column % 3 === 0;
    case 3:
      return (row + column) % 3 === 0;
    case 4:
      return (Math.floor(row / 2) + Math.floor(column / 3)) % 2 === 0;
    case 5:
      return ((row * column) % 2) + ((row * column) % 3) === 0;
    case 6:
      return (((row * column) % 2) + ((row * column) % 3)) % 2 === 0;
    case 7:
      return (((row + column) % 2) + ((row * column) % 3)) % 2 === 0;
    default:
      throw new RangeError(`no mask ${mask}`);
  }
}

function applyMask(modules: boolean[][], reserved: readonly (readonly boolean[])[], mask: number): void {
  const size = modules.length;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      if (!reserved[row]![column] && maskFlips(mask, row, column)) modules[row]![column] = !modules[row]![column];
    }
  }
}

/**
 * The standard's penalty score of a masked symbol: long runs, 2×2 blocks,
 * finder-like patterns and an unbalanced share of dark modules all cost.
 * @param modules a complete symbol
 */
export function penalty(modules: readonly (readonly boolean[])[]): number {
  const size = modules.length;
  let score = 0;
  const lines: boolean[][] = [];
  for (let i = 0; i < size; i++) {
    lines.push([...modules[i]!]);
    lines.push(modules.map((row) => row[i]!));
  }
  for (const line of lines) {
    let run = 1;
    for (let i = 1; i <= size; i++) {
      if (i < size && line[i] === line[i - 1]) {
        run++;
        continue;
      }
      if (run >= 5) score += PENALTY_RUN + (run - 5);
      run = 1;
    }
    // 1:1:3:1:1 dark-light-dark-dark-dark-light-dark with four light modules on either side.
    for (let i = 0; i + 11 <= size; i++) {
      const window = line.slice(i, i + 11).map((dark) => (dark ? '1' : '0')).join('');
      if (window === '10111010000' || window === '00001011101') score += PENALTY_FINDER_LIKE;
    }
  }
  let dark = 0;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const here = modules[row]![column]!;
      if (here) dark++;
      if (row + 1 < size && column + 1 < size && here === modules[row]![column + 1] && here === modules[row + 1]![column] && here === modules[row + 1]![column + 1]) {
        score += PENALTY_BLOCK;
      }
    }
  }
  const total = size * size;
  const k = Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1;
  return score + Math.max(0, k) * PENALTY_BALANCE;
}

/** ∏(x − α^i) for i < degree, highest coefficient (1) left out, highest first. */
function generatorPolynomial(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMultiply(result[j]!, root);
      if (j + 1 < degree) result[j]! ^= result[j + 1]!;
    }
    root = gfMultiply(root, 0x02);
  }
  return result;
}

/** Multiplication in GF(256) modulo {@link FIELD_POLYNOMIAL} (Russian peasant, no tables: symbols are small). */
function gfMultiply(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * FIELD_POLYNOMIAL);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function bchRemainder(value: number, generator: number): number {
  const generatorDegree = 31 - Math.clz32(generator);
  let remainder = value;
  while (remainder !== 0 && 31 - Math.clz32(remainder) >= generatorDegree) {
    remainder ^= generator << (31 - Math.clz32(remainder) - generatorDegree);
  }
  return remainder;
}
