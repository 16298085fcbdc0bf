/**
 * Exact decimal handling for amounts and VAT rates: values stay strings and are compared as integer
 * hundredths, never as binary floats (0.1 + 0.2 must not decide whether a document is sent).
 */

export type DecimalProblem = 'type' | 'format' | 'decimals' | 'too-large';

/**
 * Parses a plain decimal string (`"52"`, `"52.1"`, `"052.10"`) into integer hundredths. Only digits
 * and one dot: no sign, no comma, no exponent, no spaces. `maxIntegerDigits` bounds the size before
 * any arithmetic so huge inputs cannot lose precision.
 */
export function parseHundredths(
  value: unknown,
  maxIntegerDigits: number,
): { ok: true; hundredths: number } | { ok: false; problem: DecimalProblem } {
  if (typeof value !== 'string') return { ok: false, problem: 'type' };
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(value);
  if (!match) return { ok: false, problem: 'format' };
  const integerDigits = match[1]!.replace(/^0+(?=[0-9])/, '');
  const fraction = match[2] ?? '';
  if (fraction.length > 2) return { ok: false, problem: 'decimals' };
  if (integerDigits.length > maxIntegerDigits) return { ok: false, problem: 'too-large' };
  return { ok: true, hundredths: Number(integerDigits) * 100 + Number(fraction.padEnd(2, '0')) };
}

/** `5201` → `"52.01"`: always two decimals and a dot, as both STS schemas want. */
export function formatHundredths(hundredths: number): string {
  const whole = Math.floor(hundredths / 100);
  return `${whole}.${String(hundredths % 100).padStart(2, '0')}`;
}
