import { romeDate } from '@sts/shared';
import { describe, expect, it } from 'vitest';
import { lookupStsCode } from '../errors/lookup-sts-code.ts';
import type { EncryptedTaxCode, ExpenseDocument, PlainExpenseDocument } from './expense-document.ts';
import {
  type DocumentRules,
  validateDocument,
  validateDocumentId,
  validateEncryptedDocument,
  validateExpenseDocument,
} from './validate-document.ts';

/** The date rules of issue 10 (validation/date-rules.ts): they run only when `today` is given. */

const document = (change: Partial<PlainExpenseDocument> = {}): PlainExpenseDocument => ({
  id: { vatNumber: '12345678903', issueDate: '2025-05-10', device: 1, number: 'F-2025/0042' },
  operation: 'insert',
  paymentDate: '2025-05-10',
  patient: { kind: 'identified', taxCode: 'RSSMRA85T10A562S' },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '80.00', vatNature: 'N4' }],
  ...change,
});

const codes = (result: ReturnType<typeof validateExpenseDocument>) =>
  result.ok ? [] : result.violations.map((v) => `${v.path} ${v.code} ${v.stsCode ?? '-'}`);

describe('date rules', () => {
  it('do not run without today: existing callers see exactly what they saw before', () => {
    const future = document({
      id: { ...document().id, issueDate: '2099-01-01' },
      paymentDate: '2099-01-01',
    });
    const result = validateExpenseDocument(future);
    expect(result.ok).toBe(true);
    expect(Object.keys(result).sort()).toEqual(['ok', 'value']);
    const old = validateExpenseDocument(
      document({ paymentDate: '2016-05-10', id: { ...document().id, issueDate: '2016-05-10' } }),
    );
    expect(old.ok).toBe(true);
  });

  it('refuse an issue or payment date after today (Italian time) with our own code S909', () => {
    const rules: DocumentRules = { today: '2026-03-01' };
    expect(
      codes(
        validateExpenseDocument(
          document({ paymentDate: '2026-03-02', id: { ...document().id, issueDate: '2026-03-01' } }),
          rules,
        ),
      ),
    ).toEqual(['paymentDate document.payment-date.future S909']);
    expect(
      codes(
        validateExpenseDocument(
          document({
            id: { ...document().id, issueDate: '2026-03-02' },
            paymentDate: '2026-03-01',
            paidInAdvance: true,
          }),
          rules,
        ),
      ),
    ).toEqual(['id.issueDate document.issue-date.future S909']);
    // Today itself is not the future.
    expect(
      validateExpenseDocument(
        document({ paymentDate: '2026-03-01', id: { ...document().id, issueDate: '2026-03-01' } }),
        rules,
      ).ok,
    ).toBe(true);
    const entry = lookupStsCode('S909', 'message');
    expect(entry).toMatchObject({ known: true, textOrigin: 'ours', class: 'document' });
  });

  it('refuse a refund of a document issued in the future', () => {
    const refund = document({
      operation: 'refund',
      id: { ...document().id, number: 'NC-1', issueDate: '2026-02-20' },
      paymentDate: '2026-02-20',
      refundedDocumentId: { ...document().id, issueDate: '2026-02-25' },
    });
    expect(codes(validateExpenseDocument(refund, { today: '2026-02-21' }))).toEqual([
      'refundedDocumentId.issueDate document.issue-date.future S909',
    ]);
  });

  it('refuse a payment of a closed tax year with S035, saying until when it was open', () => {
    const result = validateExpenseDocument(document(), { today: '2026-02-10' });
    expect(codes(result)).toEqual(['paymentDate document.payment-date.closed S035']);
    expect(result.ok ? '' : result.violations[0]!.message).toMatch(/closed on 2026-02-09/);
    expect(result.deadline).toMatchObject({ status: 'closed', allowedUntil: '2026-02-09', stsCode: 'S035' });
    // Cancellations and updates close at the same date.
    expect(
      codes(validateExpenseDocument(document({ operation: 'cancel' }), { today: '2026-02-10' })),
    ).toEqual(['paymentDate document.payment-date.closed S035']);
    expect(validateExpenseDocument(document({ operation: 'update' }), { today: '2026-02-09' }).ok).toBe(true);
  });

  it('accept a late document and flag it apart from the violations (W008, the sanction risk)', () => {
    const result = validateExpenseDocument(document(), { today: '2026-02-03' });
    expect(result.ok).toBe(true);
    expect(result.deadline).toMatchObject({
      status: 'late',
      allowed: true,
      onTimeUntil: '2026-02-02',
      allowedUntil: '2026-02-09',
      stsCode: 'W008',
      basis: 'inferred',
    });
    expect(result.notices).toEqual([
      expect.objectContaining({ path: 'paymentDate', code: 'document.payment-date.late', stsCode: 'W008' }),
    ]);
    expect(result.notices![0]!.message).toMatch(/€100 per document/);
    const onTime = validateExpenseDocument(document(), { today: '2026-02-02' });
    expect(onTime).toMatchObject({ ok: true, deadline: { status: 'on-time', onTimeUntil: '2026-02-02' } });
    expect(onTime.notices).toBeUndefined();
  });

  it('give a veterinarian the veterinary window after the health deadline', () => {
    const vet = document({ lines: [{ expenseType: 'SV', amount: '60.00', vatRate: '22.00' }] });
    const rules = { today: '2026-03-10', veterinarian: true };
    expect(validateExpenseDocument(vet, rules)).toMatchObject({
      ok: true,
      deadline: { status: 'on-time', onTimeUntil: '2026-03-16', allowedUntil: '2026-03-23' },
    });
    // A pharmacy's veterinary medicine (FV) follows the health dates.
    const pharmacy = document({ lines: [{ expenseType: 'FV', amount: '9.90', vatRate: '10.00' }] });
    expect(codes(validateExpenseDocument(pharmacy, { today: '2026-03-10' }))).toEqual([
      'paymentDate document.payment-date.closed S035',
    ]);
  });

  it('relaxed (the kit test environment): a closed year becomes a notice; a future date is still refused', () => {
    const rules = { today: '2026-12-07', relaxedCalendar: true };
    const result = validateExpenseDocument(document(), rules);
    expect(result.ok).toBe(true);
    expect(result.notices).toEqual([
      expect.objectContaining({ code: 'document.payment-date.closed', stsCode: 'S035' }),
    ]);
    expect(codes(validateExpenseDocument(document({ paymentDate: '2026-12-08' }), rules))).toEqual([
      'paymentDate document.payment-date.future S909',
    ]);
    expect(validateExpenseDocument(document(), { today: '2026-12-07' }).ok).toBe(false);
  });

  it('a year the calendar does not cover: accepted, and flagged only once that year is over', () => {
    const doc = document({ id: { ...document().id, issueDate: '2027-04-01' }, paymentDate: '2027-04-01' });
    const during = validateExpenseDocument(doc, { today: '2027-06-01' });
    expect(during).toMatchObject({ ok: true, deadline: { status: 'unknown-deadline' } });
    expect(during.notices).toBeUndefined();
    const after = validateExpenseDocument(doc, { today: '2028-01-20' });
    expect(after.ok).toBe(true);
    expect(after.notices?.map((n) => n.code)).toEqual(['document.payment-date.deadline-unknown']);
  });

  it('count today in Italy: 23:30 UTC on the deadline is already the next day in Rome', () => {
    const today = romeDate(new Date('2026-02-02T23:30:00Z'));
    expect(today).toBe('2026-02-03');
    expect(validateExpenseDocument(document(), { today }).deadline?.status).toBe('late');
  });

  it('run the same on a document with its sender, on an encrypted one and on an identifier alone', () => {
    const sender = { kind: 'professional' as const, taxCode: 'RSSMRA85T10A562S' };
    expect(validateDocument({ document: document(), sender }, { today: '2026-02-10' }).ok).toBe(false);
    const encrypted: ExpenseDocument<EncryptedTaxCode> = {
      ...document(),
      patient: { kind: 'identified', taxCode: { encrypted: Buffer.alloc(128, 1).toString('base64') } },
    };
    expect(validateEncryptedDocument(encrypted, { today: '2026-02-03' })).toMatchObject({
      ok: true,
      deadline: { status: 'late' },
    });
    const id = { ...document().id, issueDate: '2026-05-01' };
    expect(validateDocumentId(id).ok).toBe(true);
    const future = validateDocumentId(id, { today: '2026-04-30' });
    expect(future.ok ? [] : future.violations.map((v) => v.code)).toEqual(['document.issue-date.future']);
  });

  it('want today as a YYYY-MM-DD date (a programming error otherwise)', () => {
    expect(() => validateExpenseDocument(document(), { today: '07/12/2026' })).toThrow(TypeError);
  });
});
