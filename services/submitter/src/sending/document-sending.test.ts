import type { EncryptedTaxCode, ExpenseDocument } from '@sts/sts';
import { describe, expect, it } from 'vitest';
import { expenseDocument } from '../../test-support/documents.ts';
import { arrivedAsSent, messagesOf } from './document-sending.ts';

/** Two SR lines (100.50 + 20.00) and one TK line (36.15), paid 2025-06-10. */
const sent = (
  operation: ExpenseDocument['operation'],
): { operation: string; document: ExpenseDocument<EncryptedTaxCode> } => ({
  operation,
  document: expenseDocument(9, {
    operation,
    paymentDate: '2025-06-10',
    lines: [
      { expenseType: 'SR', amount: '100.50', vatNature: 'N4' },
      { expenseType: 'SR', amount: '20.00', vatNature: 'N4' },
      { expenseType: 'TK', amount: '36.15', vatNature: 'N4' },
    ],
  }),
});
const held = (totals: { expenseType: string; amount: string }[], paymentDate?: string) => ({
  found: true,
  document: { totals, ...(paymentDate ? { paymentDate } : {}) },
});
const updateTotals = [
  { expenseType: 'SR', amount: '120.50' },
  { expenseType: 'TK', amount: '36.15' },
];

describe('arrivedAsSent', () => {
  it('an insert or a refund arrived when the STS holds the document, not when it does not', () => {
    for (const operation of ['insert', 'refund'] as const) {
      expect(arrivedAsSent(sent(operation), held([{ expenseType: 'SR', amount: '1.00' }]))).toBe(true);
      expect(arrivedAsSent(sent(operation), { found: false })).toBe(false);
    }
  });

  it('a cancellation arrived when the document is gone, not while the STS still holds it', () => {
    expect(arrivedAsSent(sent('cancel'), { found: false })).toBe(true);
    expect(arrivedAsSent(sent('cancel'), held(updateTotals))).toBe(false);
    // Held as cancelled: its last operation (tipoInvio) is the cancellation.
    const cancelled = { found: true, document: { totals: updateTotals, sendType: 'C' } };
    expect(arrivedAsSent(sent('cancel'), cancelled)).toBe(true);
    expect(
      arrivedAsSent(sent('cancel'), { found: true, document: { totals: updateTotals, sendType: 'V' } }),
    ).toBe(false);
  });

  it("an update arrived when the STS holds the update's totals per expense type (amounts compared in cents)", () => {
    expect(arrivedAsSent(sent('update'), held(updateTotals))).toBe(true);
    expect(arrivedAsSent(sent('update'), held([...updateTotals].reverse(), '2025-06-10'))).toBe(true);
    expect(
      arrivedAsSent(
        sent('update'),
        held([
          { expenseType: 'SR', amount: '120.5' },
          { expenseType: 'TK', amount: '36.150' },
        ]),
      ),
    ).toBe(true);
  });

  it("an update did not arrive when the STS still holds other totals (the insert's)", () => {
    // Not there at all.
    expect(arrivedAsSent(sent('update'), { found: false })).toBe(false);
    // One amount differs by a cent.
    expect(
      arrivedAsSent(sent('update'), held([updateTotals[0]!, { expenseType: 'TK', amount: '36.14' }])),
    ).toBe(false);
    // An expense type missing, or one more.
    expect(arrivedAsSent(sent('update'), held([updateTotals[0]!]))).toBe(false);
    expect(
      arrivedAsSent(sent('update'), held([...updateTotals, { expenseType: 'AD', amount: '5.00' }])),
    ).toBe(false);
    // Same sum, split differently among the types.
    expect(
      arrivedAsSent(
        sent('update'),
        held([
          { expenseType: 'SR', amount: '100.50' },
          { expenseType: 'TK', amount: '56.15' },
        ]),
      ),
    ).toBe(false);
    // The right totals but another payment date: the insert's, not the update's.
    expect(arrivedAsSent(sent('update'), held(updateTotals, '2025-06-09'))).toBe(false);
    // Found, but no totals given.
    expect(arrivedAsSent(sent('update'), { found: true })).toBe(false);
  });
});

describe('messagesOf', () => {
  it('keeps code and text verbatim, E/S as errors, W as warnings, the rest as information; drops empty codes', () => {
    expect(
      messagesOf([
        { code: 'E104', type: 'E', description: 'Errore' },
        { code: 'S017', type: '', description: 'Già presente' },
        { code: 'W008', type: 'W', description: 'Oltre i termini' },
        { code: '0', type: '', description: 'Ok' },
        { code: '', type: 'E', description: 'vuoto' },
      ] as Parameters<typeof messagesOf>[0]),
    ).toEqual([
      { code: 'E104', kind: 'error', text: 'Errore' },
      { code: 'S017', kind: 'error', text: 'Già presente' },
      { code: 'W008', kind: 'warning', text: 'Oltre i termini' },
      { code: '0', kind: 'info', text: 'Ok' },
    ]);
  });
});
