/**
 * @module protocol/short-id
 * Short order ids: the last hex digits of an id, as the page and the
 * terminal show them, which the REST search (`q`) and the CLI's `--order`
 * accept in place of the whole id.
 */

/** Fewest hex digits a short id has (the page and the CLI show 8). */
export const ID_SUFFIX_MIN_DIGITS = 8;

const UUID_TEMPLATE = '00000000-0000-0000-0000-000000000000';

/**
 * Whether `text` can be the end of an order id: 8+ hex digits (either case),
 * with dashes only where a UUID has them.
 * @param text what was given
 */
export function isIdSuffix(text: string): boolean {
  if (!/^[0-9a-fA-F-]{8,36}$/.test(text)) return false;
  if (text.replaceAll('-', '').length < ID_SUFFIX_MIN_DIGITS) return false;
  const tail = UUID_TEMPLATE.slice(UUID_TEMPLATE.length - text.length);
  for (let i = 0; i < text.length; i++) if ((text[i] === '-') !== (tail[i] === '-')) return false;
  return true;
}
