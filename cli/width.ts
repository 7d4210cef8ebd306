/**
 * @module cli/width
 * How many terminal cells text takes, and cutting or padding it to a number
 * of cells. `String.length` counts UTF-16 units: a CJK name or an emoji takes
 * two cells for one or two units, and a combining accent takes none, so
 * columns padded by `length` drift and lines wrap.
 *
 * The count follows wcwidth, as xterm, tmux, VTE and most terminals do: East
 * Asian Wide and Fullwidth characters and emoji are two cells, combining marks
 * and format characters (zero width joiner, variation selectors) none. Where
 * terminals disagree it errs wide, so a line can come out a cell short of the
 * edge but never wraps: a character followed by U+FE0F (emoji presentation)
 * counts two, and each half of a flag counts two. East Asian "ambiguous"
 * characters count one, as they do outside CJK locales.
 */

/**
 * East Asian Wide and Fullwidth ranges outside the emoji (which
 * `\p{Emoji_Presentation}` covers), from Unicode's EastAsianWidth.txt,
 * merged into whole blocks where a block is wide throughout.
 */
const WIDE = new RegExp(
  '[' +
    '\\u1100-\\u115f' + // Hangul Jamo initial consonants
    '\\u2329\\u232a' + // angle brackets
    '\\u2e80-\\u303e' + // CJK radicals, Kangxi radicals, CJK symbols and punctuation
    '\\u3041-\\u33ff' + // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, enclosed CJK
    '\\u3400-\\u4dbf\\u4e00-\\u9fff' + // CJK unified ideographs and extension A
    '\\ua000-\\ua4cf\\ua960-\\ua97f\\uac00-\\ud7a3' + // Yi; Hangul Jamo extended A; Hangul syllables
    '\\uf900-\\ufaff\\ufe10-\\ufe19\\ufe30-\\ufe6f' + // CJK compatibility ideographs, vertical and small forms
    '\\uff00-\\uff60\\uffe0-\\uffe6' + // fullwidth forms
    '\\u{16fe0}-\\u{16fe4}\\u{16ff0}\\u{16ff1}\\u{17000}-\\u{18d08}' + // Tangut, Khitan
    '\\u{1aff0}-\\u{1b2ff}' + // Kana supplement and extensions, Nushu
    '\\u{1f200}-\\u{1f265}' + // enclosed ideographic supplement
    '\\u{20000}-\\u{2fffd}\\u{30000}-\\u{3fffd}' + // CJK extensions B and later
    ']|\\p{Emoji_Presentation}',
  'u',
);

/**
 * No cell of their own: nonspacing and enclosing marks, format characters,
 * Hangul medial vowels and final consonants (they join the syllable before).
 * The soft hyphen is a format character that terminals show, so it is left out.
 */
const ZERO_WIDTH = /(?!\u00ad)[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff\ud7b0-\ud7ff]/u;

/** Variation selector 16: "show the character before as an emoji". */
const EMOJI_PRESENTATION_SELECTOR = 0xfe0f;

/** What {@link fitCells} puts where it cut. */
const ELLIPSIS = '…';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Terminal cells `text` takes.
 * @param text text without control characters (see `clean` in cli/format)
 */
export function cellWidth(text: string): number {
  // Printable ASCII is one cell per unit: the common case needs no scan.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let cells = 0;
  let previous = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    let width = 0;
    if (codePoint === EMOJI_PRESENTATION_SELECTOR) width = previous === 1 ? 1 : 0;
    else if (ZERO_WIDTH.test(char)) width = 0;
    else width = WIDE.test(char) ? 2 : 1;
    cells += width;
    previous = codePoint === EMOJI_PRESENTATION_SELECTOR ? 2 : width;
  }
  return cells;
}

/**
 * `text` cut to at most `width` cells, ending in {@link ELLIPSIS} when cut.
 * Cuts fall between graphemes, so an accent stays with its letter and a flag
 * or a family emoji is kept or dropped whole.
 * @param text the text
 * @param width cells available (at least 1)
 */
export function fitCells(text: string, width: number): string {
  return cellWidth(text) <= width ? text : cutCells(text, width);
}

/**
 * The start of `text` that fits in `width - 1` cells, then {@link ELLIPSIS}:
 * for text that is followed by more that does not fit.
 * @param text the text
 * @param width cells available (at least 1)
 */
export function cutCells(text: string, width: number): string {
  const room = Math.max(0, width - cellWidth(ELLIPSIS));
  let kept = '';
  let cells = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = cellWidth(segment);
    if (cells + w > room) break;
    kept += segment;
    cells += w;
  }
  return `${kept}${ELLIPSIS}`;
}

/**
 * `text` padded with spaces on the right to `width` cells (unchanged when wider).
 * @param text the text
 * @param width cells
 */
export function padEndCells(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - cellWidth(text)));
}

/**
 * `text` padded with spaces on the left to `width` cells (unchanged when wider).
 * @param text the text
 * @param width cells
 */
export function padStartCells(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - cellWidth(text))) + text;
}
