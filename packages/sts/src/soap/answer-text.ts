/**
 * Text of a leaf of an answer as node-soap parses it. node-soap hands a leaf over as a string; as a
 * number, boolean or Date when the schema (or an `xsi:type`) names a type it converts; and as
 * `{ attributes, $value }` when the element carries attributes (an `xsi:type`, say). The first and
 * the last give the text as sent; the others are turned back into text.
 */
export function answerText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && !(value instanceof Date)) {
    return '$value' in value ? answerText((value as { $value: unknown }).$value) : '';
  }
  return String(value);
}

/**
 * `pIva` as text. The single-document and batch schemas type it `xs:integer` (11 digits by pattern),
 * so a parser that converts it (node-soap's parseInt for an integer type) drops the leading zeros of
 * a VAT number such as 01234567897: a number is given its 11 digits back. Text is taken as sent.
 */
export function vatNumberText(value: unknown): string {
  const leaf =
    value !== null && typeof value === 'object' && '$value' in value
      ? (value as { $value: unknown }).$value
      : value;
  if (typeof leaf === 'number' && Number.isSafeInteger(leaf) && leaf >= 0 && leaf < 1e11) {
    return String(leaf).padStart(11, '0');
  }
  return answerText(leaf);
}
