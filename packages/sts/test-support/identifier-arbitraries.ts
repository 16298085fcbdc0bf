import { OMOCODIA_LETTERS, taxCodeCheckCharacter, vatNumberCheckDigit } from '@sts/shared/identifiers';
import fc from 'fast-check';

/** Generators of valid Italian identifiers for property tests. */

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MONTH_LETTERS = 'ABCDEHLMPRST';
const letter = fc.constantFrom(...LETTERS);
const letters = (n: number) =>
  fc.array(letter, { minLength: n, maxLength: n }).map((chars) => chars.join(''));
const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

/** Digit positions omocodia substitutes, from the right (as the Agenzia applies it). */
const OMOCODIA_ORDER = [14, 13, 12, 10, 9, 7, 6];

/** A valid personal codice fiscale; `omocodic` forces 1–7 substituted digits. */
export const personTaxCodeArb = (options: { omocodic?: boolean } = {}): fc.Arbitrary<string> =>
  fc
    .record({
      surnameName: letters(6),
      year: digits(2),
      month: fc.constantFrom(...MONTH_LETTERS),
      day: fc.integer({ min: 1, max: 31 }),
      female: fc.boolean(),
      place: letters(1),
      placeNumber: digits(3),
      substitutions: options.omocodic
        ? fc.integer({ min: 1, max: 7 })
        : fc.integer({ min: 0, max: 7 }).map((n) => (n > 5 ? n - 5 : 0)),
    })
    .map(({ surnameName, year, month, day, female, place, placeNumber, substitutions }) => {
      const chars =
        `${surnameName}${year}${month}${String(day + (female ? 40 : 0)).padStart(2, '0')}${place}${placeNumber}`.split(
          '',
        );
      for (const position of OMOCODIA_ORDER.slice(0, substitutions)) {
        chars[position] = OMOCODIA_LETTERS[Number(chars[position])]!;
      }
      const first15 = chars.join('');
      return first15 + taxCodeCheckCharacter(first15);
    });

/** A valid partita IVA (also the 11-digit codice fiscale of companies). */
export const vatNumberArb: fc.Arbitrary<string> = digits(10)
  .filter((first10) => first10 !== '0000000000')
  .map((first10) => first10 + vatNumberCheckDigit(first10));
