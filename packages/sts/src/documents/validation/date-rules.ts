import { checkDeadline, type DeadlineAnswer } from '../../calendar/deadline-check.ts';
import type { DocumentId, Operation } from '../expense-document.ts';
import { OPERATIONS } from '../expense-document.ts';
import { type Add, isCalendarDate, type ResolvedRules } from './validation-support.ts';

/**
 * The date rules, which need today's date (`DocumentRules.today`) and run only when it is given:
 *
 * - **No date after today** (`document.issue-date.future`, `document.payment-date.future`): our own
 *   rule. No STS code or wording for a future date is public (docs/protocol.md §4.3); the async spec
 *   v2.5 only says the payment year must be the current one ("anno in corso"), which covers a future
 *   year, not a later day of this one. The simulator answers it with our code S909 (error catalogue,
 *   `textOrigin: 'ours'`).
 * - **No payment of a closed tax year** (`document.payment-date.closed`, S035): DM 19/10/2020 All. A
 *   §4.7 as amended by DM 29/01/2021 ("entro e non oltre il termine"; data sent later "saranno
 *   scartati"), the dates of `packages/sts/calendar/sts-calendar.json`; S035 observed as "payment of
 *   a closed year" [X-DOC]. With `relaxedCalendar` (the kit test environment) it is a notice.
 * - **Late but accepted** (notice `document.payment-date.late`, not a violation): the STS takes it
 *   with W008 [X-RUST]; a late sending risks €100 per document (art. 3 c. 5-bis D.Lgs. 175/2014).
 */

/** Something worth showing that does not stop the document: the same shape as a violation. */
export interface DocumentNotice {
  path: string;
  /** Stable, e.g. `document.payment-date.late`. */
  code: string;
  message: string;
  hint: string;
  /** What the STS will answer, when known (W008). */
  stsCode?: string;
}

/** What the date rules found besides violations: the deadline answer and the notices to show. */
export interface DateFindings {
  deadline?: DeadlineAnswer;
  notices?: DocumentNotice[];
}

/** Our own code for a date after today (no STS code is public): catalogue entry S909. */
export const FUTURE_DATE_CODE = 'S909';

function checkNotFuture(
  date: unknown,
  path: string,
  what: 'issue' | 'payment',
  today: string,
  add: Add,
): boolean {
  if (!isCalendarDate(date) || date <= today) return true;
  if (what === 'issue') {
    add(
      path,
      'document.issue-date.future',
      'The issue date is after today (Italian time): a document cannot be sent before it is issued.',
      'Check the issue date; send the document once it has been issued.',
      FUTURE_DATE_CODE,
    );
  } else {
    add(
      path,
      'document.payment-date.future',
      'The payment date is after today (Italian time): only payments already made can be sent.',
      'Check the payment date; if the patient has not paid yet, send the document once they have, with the day they paid.',
      FUTURE_DATE_CODE,
    );
  }
  return false;
}

/** Only the identifier: what a cancellation alone sends. */
export function checkIdDateRules(
  id: DocumentId | undefined,
  path: string,
  rules: ResolvedRules,
  add: Add,
): void {
  if (rules.today === undefined || !id) return;
  checkNotFuture(id.issueDate, `${path}.issueDate`, 'issue', rules.today, add);
}

export function checkDateRules(
  input: Record<string, unknown>,
  operation: Operation,
  ids: { id: DocumentId | undefined; refundedDocumentId: DocumentId | undefined },
  rules: ResolvedRules,
  add: Add,
  found: DateFindings,
): void {
  const today = rules.today;
  if (today === undefined) return;
  checkIdDateRules(ids.id, 'id', rules, add);
  checkIdDateRules(ids.refundedDocumentId, 'refundedDocumentId', rules, add);
  const paymentDate = input.paymentDate;
  if (!isCalendarDate(paymentDate) || !OPERATIONS.includes(operation)) return;
  if (!checkNotFuture(paymentDate, 'paymentDate', 'payment', today, add)) return;

  const deadline = checkDeadline({
    operation,
    paymentDate,
    today,
    senderType: rules.veterinarian ? 'veterinarian' : 'other',
  });
  found.deadline = deadline;
  const notices: DocumentNotice[] = [];
  if (deadline.status === 'closed') {
    const until = deadline.allowedUntil ? ` on ${deadline.allowedUntil}` : '';
    if (rules.relaxedCalendar) {
      notices.push({
        path: 'paymentDate',
        code: 'document.payment-date.closed',
        message: `The tax year of the payment closed${until}: the STS refuses it in production (S035). Accepted only because the calendar is relaxed (test environment).`,
        hint: 'Do not rely on this outside the test environment.',
        stsCode: 'S035',
      });
    } else {
      add(
        'paymentDate',
        'document.payment-date.closed',
        `The tax year of the payment closed${until}: the STS refuses every operation on it (S035).`,
        'Check the payment date. If it is right, the document can no longer be sent, changed or cancelled through the STS: ask the accountant.',
        'S035',
      );
    }
  } else if (deadline.status === 'late') {
    notices.push({
      path: 'paymentDate',
      code: 'document.payment-date.late',
      message: `Sent after the deadline of ${deadline.onTimeUntil}: the STS takes the document until ${deadline.allowedUntil} but marks it late (W008), and a late sending risks a sanction of €100 per document.`,
      hint: 'Send it now, before the correction deadline; from then on it is refused.',
      stsCode: 'W008',
    });
  } else if (deadline.status === 'unknown-deadline' && deadline.taxYear < Number(today.slice(0, 4))) {
    notices.push({
      path: 'paymentDate',
      code: 'document.payment-date.deadline-unknown',
      message: `The STS calendar in use (version ${deadline.calendarVersion}) has no deadline for the tax year of the payment yet, so whether it is late cannot be told.`,
      hint: 'Send it as soon as possible; the engineers must revise packages/sts/calendar/sts-calendar.json.',
    });
  }
  if (notices.length > 0) found.notices = notices;
}
