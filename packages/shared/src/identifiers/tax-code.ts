import {
  type IdentifierCheck,
  type IdentifierCheckOptions,
  normaliseIdentifier,
  problem,
} from './identifier-check.ts';
import { vatNumberCheckDigit } from './vat-number.ts';

export interface TaxCodeCheckOptions extends IdentifierCheckOptions {
  /**
   * Also accept the 11-digit codice fiscale of a company or structure (validated like a partita IVA).
   * Off by default: people (patients, professionals) always have the 16-character form.
   */
  allowEntityTaxCode?: boolean;
}

/**
 * Omocodia: when two people would get the same code, the Agenzia delle Entrate replaces digits with
 * these letters (0→L … 9→V), from the right, in the digit positions 7, 8, 10, 11, 13, 14, 15 (1-based).
 */
export const OMOCODIA_LETTERS = 'LMNPQRSTUV';
const OMOCODIA_POSITIONS = [6, 7, 9, 10, 12, 13, 14] as const;
const MONTH_LETTERS = 'ABCDEHLMPRST';

/** Positional shape: letters where the code has letters, a digit or its omocodia letter elsewhere. */
const PERSON_TAX_CODE = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

/** Value of each character in an odd (1st, 3rd, …) position, as in the official algorithm (DM 23/12/1976). */
// biome-ignore format: the official table reads best as a table
const ODD_VALUES: Record<string, number> = {
  '0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
  A: 1, B: 0, C: 5, D: 7, E: 9, F: 13, G: 15, H: 17, I: 19, J: 21, K: 2, L: 4, M: 18,
  N: 20, O: 11, P: 3, Q: 6, R: 8, S: 12, T: 14, U: 16, V: 10, W: 22, X: 25, Y: 24, Z: 23,
};

/** Value in an even position: digits 0–9 count as themselves, letters A–Z as 0–25. */
const evenValue = (char: string): number => {
  const code = char.charCodeAt(0);
  return code <= 57 ? code - 48 : code - 65;
};

/** The check character (16th) of a personal codice fiscale from its first 15 characters. */
export function taxCodeCheckCharacter(first15: string): string {
  if (!/^[0-9A-Z]{15}$/.test(first15)) throw new Error('taxCodeCheckCharacter needs 15 characters A-Z 0-9');
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const char = first15[i]!;
    sum += i % 2 === 0 ? ODD_VALUES[char]! : evenValue(char);
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** Replaces the omocodia letters in the digit positions with their digits (the "base" code). */
export function decodeOmocodia(taxCode: string): string {
  const chars = taxCode.split('');
  for (const position of OMOCODIA_POSITIONS) {
    const index = OMOCODIA_LETTERS.indexOf(chars[position] ?? '');
    if (index >= 0) chars[position] = String(index);
  }
  return chars.join('');
}

const birthDateIsPlausible = (taxCode: string): boolean => {
  const decoded = decodeOmocodia(taxCode);
  if (!MONTH_LETTERS.includes(decoded[8]!)) return false;
  // Day of birth, plus 40 for women.
  const day = Number(decoded.slice(9, 11));
  return (day >= 1 && day <= 31) || (day >= 41 && day <= 71);
};

/**
 * Checks an Italian codice fiscale: 16 characters with the official check character, omocodic
 * variants included (and, with `allowEntityTaxCode`, the 11-digit form of companies). Returns the
 * trimmed, upper-cased value. Problem codes: `tax-code.type`, `tax-code.length`, `tax-code.format`,
 * `tax-code.birth-date`, `tax-code.check-character`, `tax-code.check-digit`.
 */
export function checkTaxCode(input: unknown, options: TaxCodeCheckOptions = {}): IdentifierCheck {
  const value = normaliseIdentifier(input);
  if (value === undefined) return problem('tax-code.type', 'Send the codice fiscale as a string.');
  const strict = !options.allowKitTestIdentifiers;

  if (options.allowEntityTaxCode && value.length === 11) {
    if (!/^[0-9]{11}$/.test(value)) {
      return problem(
        'tax-code.format',
        'An 11-character codice fiscale (of a company or structure) contains digits only: remove letters, spaces and punctuation.',
      );
    }
    if (strict && vatNumberCheckDigit(value.slice(0, 10)) !== value[10]) {
      return problem(
        'tax-code.check-digit',
        'The last digit of the codice fiscale does not match the others: one digit is probably mistyped; copy it again from the registration documents.',
      );
    }
    return { ok: true, value };
  }

  if (value.length !== 16) {
    return problem(
      'tax-code.length',
      options.allowEntityTaxCode
        ? 'A codice fiscale has 16 characters (people) or 11 digits (companies and structures): check for missing or extra characters.'
        : 'A personal codice fiscale has exactly 16 characters: check for missing or extra characters.',
    );
  }
  if (!PERSON_TAX_CODE.test(value)) {
    return problem(
      'tax-code.format',
      'The codice fiscale does not have the right shape (6 letters, 2 digits, 1 letter, 2 digits, 1 letter, 3 digits, 1 letter): check for swapped letters and digits such as O and 0.',
    );
  }
  if (strict && !birthDateIsPlausible(value)) {
    return problem(
      'tax-code.birth-date',
      'The birth month letter or birth day inside the codice fiscale is impossible: a character is probably mistyped; copy it again from the health card.',
    );
  }
  if (strict && taxCodeCheckCharacter(value.slice(0, 15)) !== value[15]) {
    return problem(
      'tax-code.check-character',
      'The last character of the codice fiscale does not match the others: a character is probably mistyped; copy it again from the health card.',
    );
  }
  return { ok: true, value };
}
