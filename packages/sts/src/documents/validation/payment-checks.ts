import type { DocumentId, ExpenseType, Operation } from '../expense-document.ts';
import { type Add, isCalendarDate, isRecord, type ResolvedRules } from './validation-support.ts';

export const PAYMENT_DATE_MIN = '2015-01-01';
/** `pagamentoTracciato` is mandatory for payments from this day (spec v2.3, 17/12/2019). */
export const TRACEABLE_PAYMENT_REQUIRED_FROM = '2020-01-01';
/** Expense types that never need `pagamentoTracciato` (spec v2.5). */
export const TRACEABLE_PAYMENT_OPTIONAL_TYPES: ReadonlySet<ExpenseType> = new Set(['TK', 'FC', 'AD', 'FV']);

/**
 * The payment date and whether it was paid in advance, against the issue date of the document (a
 * refund is paid on the day it is issued).
 */
export function checkPaymentDate(
  input: Record<string, unknown>,
  operation: Operation,
  id: DocumentId | undefined,
  add: Add,
): void {
  const paidInAdvance = input.paidInAdvance;
  if (paidInAdvance !== undefined && typeof paidInAdvance !== 'boolean') {
    add(
      'paidInAdvance',
      'document.paid-in-advance.type',
      'paidInAdvance must be true or false.',
      'Send a boolean.',
    );
  }
  const paymentDate = input.paymentDate;
  if (!isCalendarDate(paymentDate)) {
    add(
      'paymentDate',
      'document.payment-date.format',
      'The payment date is not a real calendar date in the form YYYY-MM-DD.',
      'Write the payment date as YYYY-MM-DD, e.g. 2025-03-31.',
    );
  } else if (paymentDate < PAYMENT_DATE_MIN) {
    add(
      'paymentDate',
      'document.payment-date.too-early',
      'The STS does not accept payments made before 1 January 2015.',
      'Check the payment date.',
    );
  } else if (id) {
    if (operation === 'refund' && paymentDate !== id.issueDate) {
      add(
        'paymentDate',
        'document.payment-date.refund',
        'For a refund the payment date must equal the issue date of the refund document.',
        'Set the payment date to the issue date of the refund document.',
      );
    } else if (paymentDate < id.issueDate && paidInAdvance !== true) {
      add(
        'paymentDate',
        'document.payment-date.before-issue',
        'The payment date is before the issue date, which is allowed only for payments made in advance.',
        'Correct the dates, or set paidInAdvance if the patient really paid before the document was issued.',
      );
    } else if (paidInAdvance === true && paymentDate > id.issueDate) {
      add(
        'paidInAdvance',
        'document.paid-in-advance.after-issue',
        'The payment is marked as made in advance but its date is after the issue date.',
        'Remove paidInAdvance, or correct the payment date.',
      );
    }
  }
}

/** Whether the payment was traceable: required from 2020 unless every line is of an exempt type. */
export function checkTraceablePayment(input: Record<string, unknown>, rules: ResolvedRules, add: Add): void {
  const traceablePayment = input.traceablePayment;
  const paymentDate = input.paymentDate;
  if (traceablePayment === undefined) {
    const needsTraceability =
      !rules.traceablePaymentExempt &&
      isCalendarDate(paymentDate) &&
      paymentDate >= TRACEABLE_PAYMENT_REQUIRED_FROM &&
      Array.isArray(input.lines) &&
      input.lines.some(
        (line) => !(isRecord(line) && TRACEABLE_PAYMENT_OPTIONAL_TYPES.has(line.expenseType as ExpenseType)),
      );
    if (needsTraceability) {
      add(
        'traceablePayment',
        'document.traceable-payment.missing',
        'Whether the payment was traceable is required, except when every line is TK, FC, AD or FV.',
        'Set traceablePayment to true (card, transfer, …) or false (cash).',
      );
    }
  } else if (typeof traceablePayment !== 'boolean') {
    add(
      'traceablePayment',
      'document.traceable-payment.type',
      'traceablePayment must be true or false.',
      'Send a boolean.',
    );
  }
}
