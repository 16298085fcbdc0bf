import type { Operation } from '../documents/expense-document.ts';
import { isCalendarDate } from '../documents/validation/validation-support.ts';
import {
  type CalendarDate,
  type CalendarPeriod,
  calendarPeriodOf,
  type DateBasis,
  STS_CALENDAR,
  type StsCalendar,
} from './sts-calendar.ts';

/**
 * "Is this operation on this document still allowed today, and until when?", from the calendar's
 * data (`sts-calendar.json`) and its operation model, which is inferred (docs/protocol.md §4.3):
 *
 * - insert and refund are on time until the sending deadline of the payment's period; update and
 *   cancel until the correction deadline (the STS calendar's "inserimento" and "modifica" dates);
 * - after the sending deadline and until the correction deadline an insert or refund is `late`: the
 *   STS takes it with W008 "IL DOCUMENTO E' STATO TRASMESSO OLTRE I TERMINI PREVISTI" (our inference);
 * - after the correction deadline every operation is `closed`: the STS refuses it with S035;
 * - a payment before the calendar's first period is closed; one after its last period has no known
 *   deadline (`unknown-deadline`): allowed, and no date is invented for it.
 *
 * Deadlines include their own day; days are civil days in Italy (the caller passes
 * `romeDate(clock())`). Future payment dates are not this function's business: validation refuses
 * them on their own rule.
 */

export type SenderType = 'veterinarian' | 'other';

export interface DeadlineQuery {
  operation: Operation;
  /** `YYYY-MM-DD`: decides the tax year (art. 7 c. 2-bis DM 19/10/2020). */
  paymentDate: string;
  /** Veterinarians have their own dates; pharmacies sending FV do not. Default `other`. */
  senderType?: SenderType;
  /** Today in Italy, `YYYY-MM-DD`. */
  today: string;
}

export const DEADLINE_STATUSES = ['on-time', 'late', 'closed', 'unknown-deadline'] as const;
export type DeadlineStatus = (typeof DEADLINE_STATUSES)[number];

export interface DeadlineAnswer {
  status: DeadlineStatus;
  /** Whether the STS takes the operation today (on time, late, or no known deadline). */
  allowed: boolean;
  /** The payment's tax year. */
  taxYear: number;
  /** Last day on which the operation is on time; absent when the deadline is unknown. */
  onTimeUntil?: string;
  /** Last day on which the STS takes it at all; after it, S035. Absent when unknown. */
  allowedUntil?: string;
  /** What the STS answers: `W008` when late, `S035` when closed. */
  stsCode?: 'W008' | 'S035';
  /**
   * `stated` when a source states both the date used and what happens on it (on time before a
   * stated deadline); `inferred` when the answer rests on our model or on an inferred date.
   */
  basis: DateBasis;
  /** The calendar period of the payment; absent for years the calendar does not cover. */
  period?: CalendarPeriod;
  calendarVersion: number;
  /** In plain English, for logs and operators. */
  reason: string;
}

/** on-time < late < closed: a status never goes back as days pass. */
export const DEADLINE_STATUS_ORDER: Record<Exclude<DeadlineStatus, 'unknown-deadline'>, number> = {
  'on-time': 0,
  late: 1,
  closed: 2,
};

export function checkDeadline(query: DeadlineQuery, calendar: StsCalendar = STS_CALENDAR): DeadlineAnswer {
  const { operation, paymentDate, today } = query;
  if (!isCalendarDate(paymentDate)) throw new TypeError('checkDeadline: paymentDate must be YYYY-MM-DD');
  if (!isCalendarDate(today)) throw new TypeError('checkDeadline: today must be YYYY-MM-DD');
  const taxYear = Number(paymentDate.slice(0, 4));
  const calendarVersion = calendar.version;
  const model = calendar.rules.operations;

  const period = calendarPeriodOf(paymentDate, calendar);
  if (!period) {
    const first = calendar.periods[0]!;
    if (paymentDate < first.payments.from) {
      return {
        status: 'closed',
        allowed: false,
        taxYear,
        stsCode: model.closed,
        basis: 'inferred',
        calendarVersion,
        reason: `Payments before ${first.payments.from} are of tax years before the calendar's first (${first.taxYear}), all closed: the STS refuses them with ${model.closed}.`,
      };
    }
    const last = calendar.periods.at(-1)!;
    const current = taxYear >= Number(today.slice(0, 4));
    return {
      status: 'unknown-deadline',
      allowed: true,
      taxYear,
      basis: 'inferred',
      calendarVersion,
      reason: current
        ? `Tax year ${taxYear} is open, and its deadline is not published yet: calendar version ${calendarVersion} ends with ${last.taxYear}. No date is invented.`
        : `Tax year ${taxYear} is past, but calendar version ${calendarVersion} ends with ${last.taxYear}: its deadlines are unknown here, so nothing is refused. Revise the calendar.`,
    };
  }

  const dates: Record<'sending' | 'corrections', CalendarDate> =
    query.senderType === 'veterinarian' ? period.veterinarians : period;
  const onTime = dates[model.onTimeUntil[operation]];
  const allowed = dates[model.allowedUntil[operation]];
  const common = {
    taxYear,
    onTimeUntil: onTime.date,
    allowedUntil: allowed.date,
    period,
    calendarVersion,
  };
  const who = query.senderType === 'veterinarian' ? 'veterinary ' : '';
  if (today <= onTime.date) {
    return {
      status: 'on-time',
      allowed: true,
      ...common,
      basis: onTime.basis,
      reason: `On time: the ${who}deadline of ${period.label} for this operation is ${onTime.date}.`,
    };
  }
  if (today <= allowed.date) {
    return {
      status: 'late',
      allowed: true,
      ...common,
      stsCode: model.late,
      basis: 'inferred',
      reason: `Late: the ${who}sending deadline of ${period.label} was ${onTime.date}; until ${allowed.date} the STS takes the document with ${model.late} (sent beyond the terms), and a late sending risks the sanction of €100 per document.`,
    };
  }
  return {
    status: 'closed',
    allowed: false,
    ...common,
    stsCode: model.closed,
    basis: 'inferred',
    reason: `Closed: the STS took operations on payments of ${period.label} until ${allowed.date} (${who}correction deadline) and now refuses them with ${model.closed}.`,
  };
}
