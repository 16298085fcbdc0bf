import type { FieldProblem } from './problem.ts';

/**
 * What free text (a label, a purpose, a reason: one line a person typed) may not contain:
 *
 * - C0 controls U+0000–U+001F (NUL, which Postgres refuses in `text` and `jsonb` and so used to
 *   end in a 500; tab, line breaks, escape sequences that rewrite a terminal), DEL U+007F and the C1
 *   controls U+0080–U+009F (what a header's obs-text bytes decode to);
 * - the Unicode line and paragraph separators U+2028 and U+2029 (line breaks by another name);
 * - a lone UTF-16 surrogate (no character at all: it cannot be encoded as UTF-8, and the database
 *   driver would store U+FFFD in its place).
 *
 * Everything else is allowed, accents, other scripts and emoji included: these fields are names
 * people give, and nothing downstream of them is a protocol field.
 */
// No `u` flag: the pattern looks at UTF-16 code units, which is how a lone surrogate shows.
const REFUSED_CHARACTER =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The problem with free text in `field`, or undefined when every character of it may be stored. */
export function refusedCharacters(field: string, value: string): FieldProblem | undefined {
  const match = REFUSED_CHARACTER.exec(value);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  const position = match.index + 1;
  return {
    field,
    rule: 'characters',
    message: `${field} contains U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${position}: control characters, line breaks and broken Unicode are refused in free text. Send plain text on one line.`,
  };
}

const REFUSED_CHARACTERS = new RegExp(REFUSED_CHARACTER.source, 'g');

/**
 * Text relayed rather than typed (what the STS said in a fault), made storable: every refused
 * character becomes a space, so a multi-line faultstring is kept on one line.
 */
export function replaceRefusedCharacters(value: string): string {
  return value.replace(REFUSED_CHARACTERS, ' ');
}
