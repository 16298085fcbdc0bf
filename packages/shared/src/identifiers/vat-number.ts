import {
  type IdentifierCheck,
  type IdentifierCheckOptions,
  normaliseIdentifier,
  problem,
} from './identifier-check.ts';

/**
 * The check digit of an Italian partita IVA (and of a numeric codice fiscale of a company or
 * structure, which uses the same algorithm) from its first ten digits: digits in odd positions are
 * added as they are, digits in even positions are doubled (minus 9 when above 9), and the check
 * digit brings the sum to a multiple of ten (a Luhn variant).
 */
export function vatNumberCheckDigit(firstTenDigits: string): string {
  if (!/^[0-9]{10}$/.test(firstTenDigits)) throw new Error('vatNumberCheckDigit needs exactly ten digits');
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const digit = firstTenDigits.charCodeAt(i) - 48;
    if (i % 2 === 0) sum += digit;
    else sum += digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * Checks a partita IVA: 11 digits, not all zero, with the right check digit. Returns the trimmed
 * value. Problems: `vat-number.type`, `vat-number.length`, `vat-number.format`, `vat-number.check-digit`.
 */
export function checkVatNumber(input: unknown, options: IdentifierCheckOptions = {}): IdentifierCheck {
  const value = normaliseIdentifier(input);
  if (value === undefined)
    return problem('vat-number.type', 'Send the partita IVA as a string of 11 digits.');
  if (value.length !== 11) {
    return problem(
      'vat-number.length',
      'A partita IVA has exactly 11 digits: check for missing or extra digits (do not add the IT prefix).',
    );
  }
  if (!/^[0-9]{11}$/.test(value)) {
    return problem(
      'vat-number.format',
      'A partita IVA contains digits only: remove letters, spaces and punctuation (no IT prefix).',
    );
  }
  if (value === '00000000000') {
    return problem(
      'vat-number.format',
      'A partita IVA cannot be all zeros: enter the real partita IVA of the issuer.',
    );
  }
  if (!options.allowKitTestIdentifiers && vatNumberCheckDigit(value.slice(0, 10)) !== value[10]) {
    return problem(
      'vat-number.check-digit',
      'The last digit of the partita IVA does not match the others: one digit is probably mistyped; copy it again from the invoice or the VAT registration.',
    );
  }
  return { ok: true, value };
}
