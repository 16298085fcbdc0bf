import { vatNumberCheckDigit } from '@sts/shared/identifiers';
import type { ExpenseDocument } from '../src/documents/expense-document.ts';

/**
 * A clinic's year of documents, generated fast and deterministically for volume tests and the
 * benchmark: unique ids, 1–3 lines, mostly identified patients whose ciphertexts come from `ciphertexts`
 * (real SanitelCF-style encryptions, 172 characters each).
 */
export function* realisticDocuments(
  count: number,
  ciphertexts: readonly string[],
): Generator<ExpenseDocument> {
  const clinics = ['0123456789', '0987654321', '0555555555'].map(
    (first10) => first10 + vatNumberCheckDigit(first10),
  );
  const start = Date.parse('2025-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const issueDate = new Date(start + (i % 365) * 86_400_000).toISOString().slice(0, 10);
    const lines = 1 + (i % 3);
    const receipt = i % 4 === 0;
    yield {
      id: {
        vatNumber: clinics[i % clinics.length]!,
        issueDate,
        device: receipt ? 1 + (i % 7) : 1,
        number: `FT2025/${i}`,
      },
      operation: 'insert',
      paymentDate: issueDate,
      patient:
        i % 25 === 0
          ? { kind: 'opposed' }
          : { kind: 'identified', taxCode: { encrypted: ciphertexts[i % ciphertexts.length]! } },
      traceablePayment: i % 5 !== 0,
      documentType: receipt ? 'receipt' : 'invoice',
      lines: Array.from({ length: lines }, (_, line) => ({
        expenseType: line === 0 ? ('SR' as const) : line === 1 ? ('TK' as const) : ('AD' as const),
        amount: `${(i * 37 + line * 11) % 2000}.${String((i + line) % 100).padStart(2, '0')}`.replace(
          /^0\.00$/,
          '1.00',
        ),
        ...(line === 2 ? { vatRate: '22.00' } : { vatNature: 'N4' }),
      })),
    };
  }
}
