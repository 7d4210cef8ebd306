/**
 * @module protocol/text
 * What user text (names) may hold beyond its length: at least one visible
 * character, and none of the explicit bidirectional formatting characters,
 * which reorder the text around them (a name that reverses the sentence it
 * sits in, or the columns after it). The clients strip those from text
 * stored before they were refused.
 */

/**
 * The explicit bidi formatting characters: embeddings and overrides (LRE,
 * RLE, PDF, LRO, RLO, U+202A-U+202E) and isolates (LRI, RLI, FSI, PDI,
 * U+2066-U+2069). The implicit marks (LRM, RLM, ALM) stay allowed: they
 * affect only the characters next to them, and right-to-left names use them.
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * A character that shows something: not white space, not a control or
 * format character, not one that fonts draw as nothing (default ignorable,
 * such as U+200B ZERO WIDTH SPACE or U+3164 HANGUL FILLER, and U+2800
 * BRAILLE PATTERN BLANK), not a combining mark on its own.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}\u2800]/u;

/**
 * Whether `text` holds an explicit bidi formatting character.
 * @param text user text
 */
export function hasBidiControl(text: string): boolean {
  return BIDI_CONTROL.test(text);
}

/**
 * Whether `text` has at least one visible character (a name of only zero
 * width spaces or Hangul fillers looks empty).
 * @param text user text
 */
export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE.test(text);
}

/**
 * `text` without explicit bidi formatting characters, for showing text that
 * was stored before they were refused.
 * @param text user text
 */
export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}
