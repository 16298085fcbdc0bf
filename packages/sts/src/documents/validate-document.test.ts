import { describe, expect, it } from 'vitest';
import type { PlainExpenseDocument, Sender } from './expense-document.ts';
import {
  type DocumentRules,
  isCalendarDate,
  validateDocument,
  validateEncryptedDocument,
  validateExpenseDocument,
  validateSender,
} from './validate-document.ts';

const PATIENT = 'RSSMRA85T10A562S';
const VAT = '12345678903';

const valid = (): PlainExpenseDocument => ({
  id: { vatNumber: VAT, issueDate: '2025-03-10', device: 1, number: 'F-2025/0001' },
  operation: 'insert',
  paymentDate: '2025-03-12',
  patient: { kind: 'identified', taxCode: PATIENT },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '120.00', vatNature: 'N4' }],
});

/** Applies a change to a fresh valid document and returns the violation codes by path. */
const violations = (change: (doc: PlainExpenseDocument) => void, rules?: DocumentRules) => {
  const doc = valid();
  change(doc);
  const result = validateExpenseDocument(doc, rules);
  return result.ok ? [] : result.violations.map((v) => `${v.path} ${v.code}`);
};

const unsafe = (value: unknown) => value as never;

describe('validateExpenseDocument', () => {
  it('accepts a valid document and normalises it', () => {
    const doc = valid();
    doc.patient = { kind: 'identified', taxCode: ' rssmra85t10a562s ' };
    doc.lines = [
      { expenseType: 'SR', amount: '52.1', vatRate: '22' },
      { expenseType: 'TK', expenseTypeFlag: 'emergency-ticket', amount: '0025', vatNature: 'n2.1' },
    ];
    const result = validateExpenseDocument(doc);
    expect(result).toEqual({
      ok: true,
      value: {
        ...valid(),
        lines: [
          { expenseType: 'SR', amount: '52.10', vatRate: '22.00' },
          { expenseType: 'TK', expenseTypeFlag: 'emergency-ticket', amount: '25.00', vatNature: 'N2.1' },
        ],
      },
    });
  });

  it('returns every violation, not only the first', () => {
    const result = validateExpenseDocument({
      ...valid(),
      id: { vatNumber: '12345678904', issueDate: '2013-12-31', device: 0, number: 'A B' },
      patient: { kind: 'identified', taxCode: 'RSSMRA85T10A562T' },
      lines: [
        { expenseType: 'FC', expenseTypeFlag: 'intramoenia', amount: '0', vatRate: '10.00', vatNature: 'N4' },
        { expenseType: 'SR', amount: '1.999', vatNature: 'N9' },
      ],
    });
    expect(result.ok).toBe(false);
    const found = result.ok ? [] : result.violations.map((v) => `${v.path} ${v.code}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'id.vatNumber document.vat-number.check-digit',
        'id.issueDate document.issue-date.too-early',
        'id.device document.device.range',
        'id.number document.number.format',
        'patient.taxCode document.tax-code.check-character',
        'lines[0].expenseTypeFlag document.expense-type-flag.intramoenia',
        'lines[0].amount document.amount.not-positive',
        'lines[0] document.vat.both',
        'lines[1].amount document.amount.decimals',
        'lines[1].vatNature document.vat-nature.unknown',
      ]),
    );
    expect(found).toHaveLength(10);
  });

  it('gives a hint and never the value in messages', () => {
    const result = validateExpenseDocument({
      ...valid(),
      patient: { kind: 'identified', taxCode: 'RSSMRA85T10A562T' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const violation of result.violations) {
      expect(violation.hint.length).toBeGreaterThan(10);
      expect(`${violation.message} ${violation.hint}`).not.toContain('RSSMRA85T10A562');
    }
  });

  describe('refunds', () => {
    it('need the refunded document and a payment date equal to the issue date', () => {
      expect(violations((d) => (d.operation = 'refund'))).toEqual([
        'refundedDocumentId document.refunded-id.missing',
        'paymentDate document.payment-date.refund',
      ]);
    });
    it('accept a proper refund', () => {
      expect(
        violations((d) => {
          d.operation = 'refund';
          d.paymentDate = d.id.issueDate;
          d.refundedDocumentId = { vatNumber: VAT, issueDate: '2025-01-10', device: 1, number: '7' };
        }),
      ).toEqual([]);
    });
    it('only refunds carry a refunded document', () => {
      expect(violations((d) => (d.refundedDocumentId = { ...d.id }))).toEqual([
        'refundedDocumentId document.refunded-id.unexpected',
      ]);
    });
    it('checks the refunded document id too', () => {
      expect(
        violations((d) => {
          d.operation = 'refund';
          d.paymentDate = d.id.issueDate;
          d.refundedDocumentId = { vatNumber: '1', issueDate: '2025-02-30', device: 1000, number: '' };
        }),
      ).toEqual([
        'refundedDocumentId.vatNumber document.vat-number.length',
        'refundedDocumentId.issueDate document.issue-date.format',
        'refundedDocumentId.device document.device.range',
        'refundedDocumentId.number document.number.length',
      ]);
    });
  });

  describe('dates', () => {
    it('payment before issue only when paid in advance', () => {
      expect(violations((d) => (d.paymentDate = '2025-03-09'))).toEqual([
        'paymentDate document.payment-date.before-issue',
      ]);
      expect(
        violations((d) => {
          d.paymentDate = '2025-03-09';
          d.paidInAdvance = true;
        }),
      ).toEqual([]);
    });
    it('paid in advance contradicts a payment after the issue date', () => {
      expect(violations((d) => (d.paidInAdvance = true))).toEqual([
        'paidInAdvance document.paid-in-advance.after-issue',
      ]);
      expect(
        violations((d) => {
          d.paidInAdvance = true;
          d.paymentDate = d.id.issueDate;
        }),
      ).toEqual([]);
    });
    it.each([
      ['2025-02-29', 'document.payment-date.format'],
      ['2025-3-12', 'document.payment-date.format'],
      ['12/03/2025', 'document.payment-date.format'],
      ['2014-12-31', 'document.payment-date.too-early'],
    ])('payment date %s → %s', (paymentDate, code) => {
      expect(
        violations((d) => {
          d.paymentDate = paymentDate;
          d.paidInAdvance = true;
        }),
      ).toContain(`paymentDate ${code}`);
    });
    it('accepts leap days and the first allowed dates', () => {
      expect(isCalendarDate('2024-02-29')).toBe(true);
      expect(isCalendarDate('2100-02-29')).toBe(false);
      expect(isCalendarDate('2000-02-29')).toBe(true);
      expect(
        violations((d) => {
          d.id.issueDate = '2014-01-01';
          d.paymentDate = '2015-01-01';
          d.traceablePayment = undefined;
        }),
      ).toEqual([]);
    });
  });

  describe('patient', () => {
    it('an opposed patient sends no codice fiscale', () => {
      expect(violations((d) => (d.patient = unsafe({ kind: 'opposed', taxCode: PATIENT })))).toEqual([
        'patient.taxCode document.patient.opposed-with-tax-code',
      ]);
      expect(violations((d) => (d.patient = { kind: 'opposed' }))).toEqual([]);
    });
    it('an identified patient needs one', () => {
      expect(violations((d) => (d.patient = unsafe({ kind: 'identified' })))).toEqual([
        'patient.taxCode document.patient.tax-code-missing',
      ]);
    });
    it('accepts omocodic codes and refuses 11-digit ones', () => {
      expect(violations((d) => (d.patient = { kind: 'identified', taxCode: 'RSSMRAURTMLARSNL' }))).toEqual(
        [],
      );
      expect(violations((d) => (d.patient = { kind: 'identified', taxCode: VAT }))).toEqual([
        'patient.taxCode document.tax-code.length',
      ]);
    });
    it('accepts the kit test codes only with the switch', () => {
      const kit = (d: PlainExpenseDocument) => {
        d.patient = { kind: 'identified', taxCode: 'PROVAX00X00X000Y' };
        d.id.vatNumber = '01201200121';
      };
      expect(violations(kit)).toEqual([
        'id.vatNumber document.vat-number.check-digit',
        'patient.taxCode document.tax-code.birth-date',
      ]);
      expect(violations(kit, { allowKitTestIdentifiers: true })).toEqual([]);
    });
  });

  describe('lines', () => {
    it.each([
      ['0.00', 'document.amount.not-positive'],
      ['0', 'document.amount.not-positive'],
      ['100000.00', 'document.amount.too-large'],
      ['100000', 'document.amount.too-large'],
      ['12.345', 'document.amount.decimals'],
      ['12,50', 'document.amount.format'],
      ['-5.00', 'document.amount.format'],
      ['1e3', 'document.amount.format'],
      [' 5.00', 'document.amount.format'],
      ['5.', 'document.amount.format'],
      [52.1, 'document.amount.format'],
    ])('amount %s → %s', (amount, code) => {
      expect(violations((d) => (d.lines[0]!.amount = unsafe(amount)))).toEqual([`lines[0].amount ${code}`]);
    });
    it('accepts the extreme amounts exactly', () => {
      expect(violations((d) => (d.lines[0]!.amount = '99999.99'))).toEqual([]);
      expect(violations((d) => (d.lines[0]!.amount = '0.01'))).toEqual([]);
      expect(violations((d) => (d.lines[0]!.amount = '000099999.99'))).toEqual([]);
    });
    it('amounts are exact decimals (no float rounding)', () => {
      const doc = valid();
      doc.lines = [{ expenseType: 'SR', amount: '0.10', vatNature: 'N4' }];
      const result = validateExpenseDocument(doc);
      expect(result.ok && result.value.lines[0]!.amount).toBe('0.10');
      expect(violations((d) => (d.lines[0]!.amount = '99999.995'))).toEqual([
        'lines[0].amount document.amount.decimals',
      ]);
    });
    it.each([
      ['100.01', 'document.vat-rate.range'],
      ['1000', 'document.vat-rate.range'],
      ['10.123', 'document.vat-rate.decimals'],
      ['10%', 'document.vat-rate.format'],
    ])('VAT rate %s → %s', (vatRate, code) => {
      expect(
        violations((d) => {
          d.lines[0] = { expenseType: 'SR', amount: '1.00', vatRate };
        }),
      ).toEqual([`lines[0].vatRate ${code}`]);
    });
    it('accepts VAT rates 0 and 100', () => {
      for (const vatRate of ['0', '100', '100.00', '4']) {
        expect(violations((d) => (d.lines[0] = { expenseType: 'SR', amount: '1.00', vatRate }))).toEqual([]);
      }
    });
    it('needs exactly one of VAT rate and nature', () => {
      expect(violations((d) => (d.lines[0] = { expenseType: 'SR', amount: '1.00' }))).toEqual([
        'lines[0] document.vat.missing',
      ]);
      expect(
        violations(
          (d) => (d.lines[0] = { expenseType: 'SR', amount: '1.00', vatRate: '22.00', vatNature: 'N4' }),
        ),
      ).toEqual(['lines[0] document.vat.both']);
      expect(
        violations((d) => (d.lines[0] = { expenseType: 'SR', amount: '1.00' }), {
          documentTypeRequired: false,
        }),
      ).toEqual([]);
    });
    it('receipts take only N1–N6', () => {
      for (const vatNature of ['N2.1', 'N7', 'N6.9']) {
        expect(
          violations((d) => {
            d.documentType = 'receipt';
            d.lines[0]!.vatNature = vatNature;
          }),
        ).toEqual(['lines[0].vatNature document.vat-nature.receipt']);
      }
      for (const vatNature of ['N1', 'N2', 'N3', 'N4', 'N5', 'N6']) {
        expect(
          violations((d) => {
            d.documentType = 'receipt';
            d.lines[0]!.vatNature = vatNature;
          }),
        ).toEqual([]);
      }
    });
    it.each(['N8', 'N2.3', 'N0', 'X', 'N3.7'])('unknown nature %s', (vatNature) => {
      expect(violations((d) => (d.lines[0]!.vatNature = vatNature))).toEqual([
        'lines[0].vatNature document.vat-nature.unknown',
      ]);
    });
    it('flags go only with their expense type', () => {
      expect(violations((d) => (d.lines[0]!.expenseTypeFlag = 'emergency-ticket'))).toEqual([
        'lines[0].expenseTypeFlag document.expense-type-flag.emergency-ticket',
      ]);
      expect(violations((d) => (d.lines[0]!.expenseTypeFlag = 'intramoenia'))).toEqual([]);
      expect(
        violations((d) => {
          d.lines[0]!.expenseType = 'TK';
          d.lines[0]!.expenseTypeFlag = 'intramoenia';
        }),
      ).toEqual(['lines[0].expenseTypeFlag document.expense-type-flag.intramoenia']);
    });
    it('needs at least one line with a known type', () => {
      expect(violations((d) => (d.lines = []))).toEqual(['lines document.lines.missing']);
      expect(violations((d) => (d.lines[0]!.expenseType = unsafe('XX')))).toEqual([
        'lines[0].expenseType document.expense-type.unknown',
      ]);
    });
  });

  describe('traceable payment', () => {
    it('is required unless every line is TK, FC, AD or FV', () => {
      expect(violations((d) => (d.traceablePayment = undefined))).toEqual([
        'traceablePayment document.traceable-payment.missing',
      ]);
      expect(
        violations((d) => {
          d.traceablePayment = undefined;
          d.lines = ['TK', 'FC', 'AD', 'FV'].map((expenseType) => ({
            expenseType: expenseType as 'TK',
            amount: '1.00',
            vatRate: '10.00',
          }));
        }),
      ).toEqual([]);
    });
    it('is not required of exempt structures, nor before 2020', () => {
      expect(violations((d) => (d.traceablePayment = undefined), { traceablePaymentExempt: true })).toEqual(
        [],
      );
      expect(
        violations((d) => {
          d.traceablePayment = undefined;
          d.id.issueDate = '2019-12-31';
          d.paymentDate = '2019-12-31';
        }),
      ).toEqual([]);
    });
  });

  describe('document type and number', () => {
    it('document type is required unless switched off', () => {
      expect(violations((d) => (d.documentType = undefined))).toEqual([
        'documentType document.document-type.missing',
      ]);
      expect(violations((d) => (d.documentType = undefined), { documentTypeRequired: false })).toEqual([]);
      expect(violations((d) => (d.documentType = unsafe('bill')))).toEqual([
        'documentType document.document-type.unknown',
      ]);
    });
    it.each([
      ['A B', 'document.number.format'],
      ['12<3', 'document.number.format'],
      ['è1', 'document.number.format'],
      ['123456789012345678901', 'document.number.length'],
      ['', 'document.number.length'],
    ])('number %s → %s', (number, code) => {
      expect(violations((d) => (d.id.number = number))).toEqual([`id.number ${code}`]);
    });
    it('accepts every allowed number character, 20 long', () => {
      expect(violations((d) => (d.id.number = 'aZ09_./\\-aZ09_./\\-x'))).toEqual([]);
    });
    it.each([
      [0, 'document.device.range'],
      [1000, 'document.device.range'],
      [1.5, 'document.device.format'],
      ['1', 'document.device.format'],
    ])('device %s → %s', (device, code) => {
      expect(violations((d) => (d.id.device = unsafe(device)))).toEqual([`id.device ${code}`]);
    });
    it('unknown operation', () => {
      expect(violations((d) => (d.operation = unsafe('delete')))).toEqual([
        'operation document.operation.unknown',
      ]);
    });
  });

  it('survives non-object input', () => {
    const result = validateExpenseDocument(unsafe(null));
    expect(result).toMatchObject({ ok: false, violations: [{ code: 'document.type' }] });
  });
});

describe('validateSender', () => {
  const codes = (sender: unknown) => {
    const result = validateSender(sender as Sender);
    return result.ok ? [] : result.violations.map((v) => `${v.path} ${v.code}`);
  };
  it('professionals: a personal codice fiscale', () => {
    expect(validateSender({ kind: 'professional', taxCode: 'rssmra85t10a562s' })).toEqual({
      ok: true,
      value: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
    });
    expect(codes({ kind: 'professional', taxCode: VAT })).toEqual(['sender.taxCode sender.tax-code.length']);
    expect(codes({ kind: 'professional' })).toEqual(['sender.taxCode sender.tax-code.missing']);
  });
  it('structures: region and ASL 3, SSA 5–6 characters, optional codice fiscale of 16 or 11', () => {
    expect(codes({ kind: 'structure', regionCode: '130', aslCode: '204', ssaCode: '78909' })).toEqual([]);
    expect(
      codes({ kind: 'structure', regionCode: '020', aslCode: '101', ssaCode: '888888', taxCode: VAT }),
    ).toEqual([]);
    expect(
      codes({
        kind: 'structure',
        regionCode: '13',
        aslCode: '2o4',
        ssaCode: '1234567',
        taxCode: '12345678904',
      }),
    ).toEqual([
      'sender.regionCode sender.region-code.format',
      'sender.aslCode sender.asl-code.format',
      'sender.ssaCode sender.ssa-code.format',
      'sender.taxCode sender.tax-code.check-digit',
    ]);
    expect(codes({ kind: 'region' })).toEqual(['sender.kind sender.kind']);
  });
  it('validateDocument reports sender and document together', () => {
    const result = validateDocument({
      document: { ...valid(), lines: [] },
      sender: { kind: 'professional', taxCode: 'RSSMRA85T10A562T' },
    });
    expect(result.ok ? [] : result.violations.map((v) => v.path)).toEqual(['sender.taxCode', 'lines']);
  });
});

describe('validateEncryptedDocument', () => {
  it('checks the ciphertext shape instead of the codice fiscale', () => {
    const base = {
      ...valid(),
      patient: { kind: 'identified' as const, taxCode: { encrypted: 'QUJD'.repeat(43) } },
    };
    expect(validateEncryptedDocument(base).ok).toBe(true);
    for (const encrypted of [
      '',
      'not base64!',
      'A'.repeat(257),
      `${'QUJD'.repeat(20)}\n${'QUJD'.repeat(20)}`,
    ]) {
      const result = validateEncryptedDocument({
        ...base,
        patient: { kind: 'identified', taxCode: { encrypted } },
      });
      expect(result.ok ? [] : result.violations.map((v) => v.code)).toEqual([
        'document.encrypted-tax-code.format',
      ]);
    }
  });
});
