import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OPERATIONS } from '../documents/expense-document.ts';
import { isCalendarDate } from '../documents/validation/validation-support.ts';

/**
 * The Sistema TS calendar as data: `packages/sts/calendar/sts-calendar.json`, versioned, with the
 * source of every date and whether it is stated or inferred (docs/protocol.md §4.3). Read and checked
 * once, when this module loads; a broken file stops the process at start, never a request.
 */

const civilDate = z.string().refine(isCalendarDate, 'must be a real date YYYY-MM-DD');
const basis = z.enum(['stated', 'inferred']);
const confidence = z.enum(['high', 'medium', 'low']);
const sourceIds = z.array(z.string().min(1)).min(1);

const calendarDateSchema = z.strictObject({
  /** The effective date, already moved past a weekend or holiday. */
  date: civilDate,
  /** The decree's date, when the weekend rule moved it. */
  nominal: civilDate.optional(),
  basis,
  confidence,
  sources: sourceIds,
  note: z.string().min(1).optional(),
});

const windowSchema = z.strictObject({
  from: civilDate,
  to: civilDate,
  basis,
  confidence,
  sources: sourceIds,
  note: z.string().min(1).optional(),
});

const periodSchema = z.strictObject({
  taxYear: z.number().int().min(2014).max(2100),
  label: z.string().min(1),
  /** Payments (by `dataPagamento`) this period covers, both days included. */
  payments: z.strictObject({ from: civilDate, to: civilDate }),
  /** Last day to send ("invio in inserimento"). */
  sending: calendarDateSchema,
  /** Last day to change what was sent ("dati in modifica"). */
  corrections: calendarDateSchema,
  /** Citizens' objection window on the STS portal. */
  objections: windowSchema,
  /** The same two deadlines for veterinarians (only: pharmacies sending FV follow the health ones). */
  veterinarians: z.strictObject({ sending: calendarDateSchema, corrections: calendarDateSchema }),
});

const ruleSchema = z.strictObject({ text: z.string().min(1), basis, sources: sourceIds });
const deadlineName = z.enum(['sending', 'corrections']);
const perOperation = z.strictObject(
  Object.fromEntries(OPERATIONS.map((operation) => [operation, deadlineName])) as Record<
    (typeof OPERATIONS)[number],
    typeof deadlineName
  >,
);

export const stsCalendarSchema = z
  .strictObject({
    version: z.number().int().positive(),
    /** The day of this revision. */
    revised: civilDate,
    title: z.string().min(1),
    notes: z.array(z.string().min(1)),
    sources: z.record(
      z.string().min(1),
      z.strictObject({ title: z.string().min(1), urls: z.array(z.url()) }),
    ),
    rules: z.strictObject({
      paymentDate: ruleSchema,
      weekend: ruleSchema,
      veterinarians: ruleSchema,
      operations: ruleSchema.extend({
        onTimeUntil: perOperation,
        allowedUntil: perOperation,
        late: z.literal('W008'),
        closed: z.literal('S035'),
      }),
    }),
    periods: z.array(periodSchema).min(1),
  })
  .superRefine((calendar, ctx) => {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const known = new Set(Object.keys(calendar.sources));
    const cite = (path: (string | number)[], ids: string[]) => {
      for (const id of ids) if (!known.has(id)) problem(path, `names the unknown source ${id}`);
    };
    for (const name of ['paymentDate', 'weekend', 'veterinarians', 'operations'] as const)
      cite(['rules', name, 'sources'], calendar.rules[name].sources);
    const { onTimeUntil, allowedUntil } = calendar.rules.operations;
    for (const operation of OPERATIONS) {
      if (onTimeUntil[operation] === 'corrections' && allowedUntil[operation] === 'sending')
        problem(['rules', 'operations', 'allowedUntil', operation], 'ends before the operation is late');
    }

    calendar.periods.forEach((period, index) => {
      const at = (...path: (string | number)[]) => ['periods', index, ...path];
      const { from, to } = period.payments;
      if (from > to) problem(at('payments'), 'ends before it starts');
      if (from.slice(0, 4) !== String(period.taxYear) || to.slice(0, 4) !== String(period.taxYear))
        problem(at('payments'), 'must lie inside its tax year');
      const previous = calendar.periods[index - 1];
      if (index === 0 && !from.endsWith('-01-01')) problem(at('payments', 'from'), 'must start a year');
      if (previous && from !== nextDay(previous.payments.to))
        problem(at('payments', 'from'), 'must start the day after the previous period ends');
      if (index === calendar.periods.length - 1 && !to.endsWith('-12-31'))
        problem(at('payments', 'to'), 'must end a year');

      const dates = [
        ['sending', period.sending],
        ['corrections', period.corrections],
        ['veterinarians.sending', period.veterinarians.sending],
        ['veterinarians.corrections', period.veterinarians.corrections],
      ] as const;
      for (const [name, entry] of dates) {
        cite(at(name, 'sources'), entry.sources);
        if (entry.date <= to) problem(at(name, 'date'), 'must come after the payments it covers');
        if (entry.nominal !== undefined && entry.nominal >= entry.date)
          problem(at(name, 'nominal'), 'must be before the moved date');
        if (entry.basis === 'inferred' && !entry.note) problem(at(name, 'note'), 'an inferred date says why');
      }
      cite(at('objections', 'sources'), period.objections.sources);
      if (period.objections.basis === 'inferred' && !period.objections.note)
        problem(at('objections', 'note'), 'an inferred window says why');
      if (period.corrections.date < period.sending.date)
        problem(at('corrections'), 'before the sending deadline');
      if (period.veterinarians.corrections.date < period.veterinarians.sending.date)
        problem(at('veterinarians', 'corrections'), 'before the veterinary sending deadline');
      if (period.veterinarians.sending.date < period.sending.date)
        problem(at('veterinarians', 'sending'), 'before the health sending deadline');
      if (period.objections.from > period.objections.to) problem(at('objections'), 'ends before it starts');
    });
  });

export type StsCalendar = z.infer<typeof stsCalendarSchema>;
export type CalendarPeriod = StsCalendar['periods'][number];
export type CalendarDate = CalendarPeriod['sending'];
export type CalendarWindow = CalendarPeriod['objections'];
export type DateBasis = CalendarDate['basis'];

/** Checks a calendar (the shipped one, or another for tests); throws naming every problem. */
export function parseStsCalendar(data: unknown, origin = 'STS calendar'): StsCalendar {
  const parsed = stsCalendarSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`${origin} is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Where the shipped calendar lives (`packages/sts/calendar/`). */
export const STS_CALENDAR_FILE = new URL('../../calendar/sts-calendar.json', import.meta.url);

/** The shipped calendar, read and checked once. */
export const STS_CALENDAR: StsCalendar = parseStsCalendar(
  JSON.parse(readFileSync(STS_CALENDAR_FILE, 'utf8')),
  'packages/sts/calendar/sts-calendar.json',
);

/** `YYYY-MM-DD` + 1 day. */
function nextDay(date: string): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

/** What a deadline is for, as `calendarDeadlines` lists them. */
export const DEADLINE_KINDS = [
  'sending',
  'corrections',
  'objections-open',
  'objections-close',
  'veterinary-sending',
  'veterinary-corrections',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

export interface CalendarDeadline {
  kind: DeadlineKind;
  /** Effective date (objections: first and last day of the window). */
  date: string;
  nominal?: string;
  basis: DateBasis;
  confidence: CalendarDate['confidence'];
  /** Source ids of the calendar's `sources`. */
  sources: string[];
  note?: string;
  /** The period whose payments it concerns, e.g. `2024, second half`. */
  period: string;
}

export interface TaxYearDeadlines {
  taxYear: number;
  /** False for a year the calendar does not cover: no date is invented for it. */
  known: boolean;
  calendarVersion: number;
  periods: CalendarPeriod[];
  /** Every deadline of the year's periods, by date (a shared date is listed once per period). */
  deadlines: CalendarDeadline[];
}

/** Tax years the calendar covers, in order. */
export function calendarTaxYears(calendar: StsCalendar = STS_CALENDAR): number[] {
  return [...new Set(calendar.periods.map((period) => period.taxYear))];
}

/** The period a payment date belongs to, if the calendar covers it. */
export function calendarPeriodOf(
  paymentDate: string,
  calendar: StsCalendar = STS_CALENDAR,
): CalendarPeriod | undefined {
  return calendar.periods.find(
    (period) => period.payments.from <= paymentDate && paymentDate <= period.payments.to,
  );
}

/** The deadlines of one tax year, for metrics, reports and the console. */
export function calendarDeadlines(taxYear: number, calendar: StsCalendar = STS_CALENDAR): TaxYearDeadlines {
  const periods = calendar.periods.filter((period) => period.taxYear === taxYear);
  const deadlines: CalendarDeadline[] = [];
  for (const period of periods) {
    const add = (kind: DeadlineKind, entry: CalendarDate | CalendarWindow, date: string) =>
      deadlines.push({
        kind,
        date,
        ...('nominal' in entry && entry.nominal ? { nominal: entry.nominal } : {}),
        basis: entry.basis,
        confidence: entry.confidence,
        sources: entry.sources,
        ...(entry.note ? { note: entry.note } : {}),
        period: period.label,
      });
    add('sending', period.sending, period.sending.date);
    add('corrections', period.corrections, period.corrections.date);
    add('objections-open', period.objections, period.objections.from);
    add('objections-close', period.objections, period.objections.to);
    add('veterinary-sending', period.veterinarians.sending, period.veterinarians.sending.date);
    add('veterinary-corrections', period.veterinarians.corrections, period.veterinarians.corrections.date);
  }
  deadlines.sort(
    (a, b) => a.date.localeCompare(b.date) || DEADLINE_KINDS.indexOf(a.kind) - DEADLINE_KINDS.indexOf(b.kind),
  );
  return { taxYear, known: periods.length > 0, calendarVersion: calendar.version, periods, deadlines };
}
