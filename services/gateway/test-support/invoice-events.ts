import { taxCodeCheckCharacter, vatNumberCheckDigit } from '@sts/shared/identifiers';

/** A valid VAT number from ten digits. */
export const vatNumber = (firstTen: string) => firstTen + vatNumberCheckDigit(firstTen);

/** A valid 16-character codice fiscale, different for each `n`. */
export function patientTaxCode(n: number): string {
  const letters = 'BCDFGHLMNPRSTVZ';
  const pick = (k: number) => letters[k % letters.length]!;
  const name = `${pick(n)}${pick(n >> 4)}${pick(n >> 8)}${pick(n >> 12)}${pick(n >> 16)}${pick(n >> 20)}`;
  const year = String(40 + (n % 60)).padStart(2, '0');
  const month = 'ABCDEHLMPRST'[n % 12]!;
  const day = String(1 + (n % 28)).padStart(2, '0');
  const first15 = `${name}${year}${month}${day}H501`;
  return first15 + taxCodeCheckCharacter(first15);
}

export const CLINIC_VAT_NUMBER = vatNumber('0123456789');

/**
 * A plain invoice event as a clinic posts it: an insert of an invoice paid on `paymentDate` (2026 by
 * default, an open tax year on the tests' clock), the patient identified by a valid codice fiscale.
 */
export function invoiceEvent(
  n: number,
  overrides: { operation?: string; credentialId?: string; document?: Record<string, unknown> } = {},
) {
  const date = `2026-${String(1 + (n % 11)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`;
  return {
    operation: overrides.operation ?? 'insert',
    ...(overrides.credentialId ? { credentialId: overrides.credentialId } : {}),
    document: {
      id: { vatNumber: CLINIC_VAT_NUMBER, issueDate: date, device: 1, number: `FT2026/${n}` },
      paymentDate: date,
      patient: { kind: 'identified', taxCode: patientTaxCode(n) },
      traceablePayment: true,
      documentType: 'invoice',
      lines: [{ expenseType: 'SR', amount: `${50 + (n % 400)}.00`, vatNature: 'N4' }],
      ...overrides.document,
    },
  };
}
