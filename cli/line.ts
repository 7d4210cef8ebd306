/**
 * @module cli/line
 * Output lines built from coloured pieces, cut to the terminal's width
 * before they are painted: cutting after painting would count escape
 * sequences as cells and could cut one in half.
 */

import { cellWidth, cutCells } from './width.ts';

/** ANSI escape sequences the client uses. */
export const ANSI = { reset: '\u001b[0m', dim: '\u001b[2m', bold: '\u001b[1m' } as const;

/** A piece of a line: its text, and the colour to paint it in (an ANSI sequence), if any. */
export type Piece = readonly [text: string, colour?: string];

/** Cells between columns, and between the parts of a header. */
export const COLUMN_GAP = '  ';
const PART_SEPARATOR = ' · ';

/**
 * Join pieces into one line, cut to `width` cells (ending in an ellipsis)
 * when given, and painted when `color` is set.
 * @param pieces the line's pieces, in order
 * @param color whether to paint
 * @param width cells available; undefined: no limit
 */
export function renderLine(pieces: readonly Piece[], color: boolean, width: number | undefined): string {
  const total = pieces.reduce((sum, [text]) => sum + cellWidth(text), 0);
  if (width === undefined || total <= width) return pieces.map(([text, colour]) => paint(text, colour, color)).join('');
  // Too long: keep whole pieces while at least one cell remains for the ellipsis, and cut the piece that crosses.
  let room = Math.max(1, width);
  let line = '';
  for (const [text, colour] of pieces) {
    const cells = cellWidth(text);
    if (cells < room) {
      line += paint(text, colour, color);
      room -= cells;
      continue;
    }
    line += paint(cutCells(text, room), colour, color);
    break;
  }
  return line;
}

/**
 * Parts (each a list of pieces) joined with " · ", onto as many lines as
 * `width` needs: a header that would wrap breaks between parts instead.
 * @param parts the parts
 * @param color whether to paint
 * @param width cells per line; undefined: all on one line
 */
export function packParts(parts: readonly (readonly Piece[])[], color: boolean, width: number | undefined): string[] {
  const lines: Piece[][] = [];
  let current: Piece[] = [];
  let cells = 0;
  for (const part of parts) {
    const partCells = part.reduce((sum, [text]) => sum + cellWidth(text), 0);
    if (current.length > 0 && width !== undefined && cells + PART_SEPARATOR.length + partCells > width) {
      lines.push(current);
      current = [];
      cells = 0;
    }
    if (current.length > 0) {
      current.push([PART_SEPARATOR]);
      cells += PART_SEPARATOR.length;
    }
    current.push(...part);
    cells += partCells;
  }
  if (current.length > 0) lines.push(current);
  return lines.map((pieces) => renderLine(pieces, color, width));
}

/**
 * `text` in `colour` when colour is on.
 * @param text the text
 * @param colour an ANSI sequence, or undefined for none
 * @param color whether colour is on
 */
function paint(text: string, colour: string | undefined, color: boolean): string {
  return color && colour !== undefined && text !== '' ? `${colour}${text}${ANSI.reset}` : text;
}
