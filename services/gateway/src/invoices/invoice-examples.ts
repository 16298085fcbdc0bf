/** The example event of the API documentation: a kit test patient, a valid VAT number. */
export const invoiceEvent = () => ({
  operation: 'insert' as const,
  document: {
    id: { vatNumber: '01234567897', issueDate: '2026-11-30', device: 1, number: 'FT2026/1042' },
    paymentDate: '2026-11-30',
    patient: { kind: 'identified' as const, taxCode: 'PROVAX00X00X000Y' },
    traceablePayment: true,
    documentType: 'invoice' as const,
    lines: [{ expenseType: 'SR' as const, amount: '120.00', vatNature: 'N4' }],
  },
});
