import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../documents/expense-document.ts';
import {
  checkDeadline,
  DEADLINE_STATUS_ORDER,
  type DeadlineAnswer,
  type DeadlineQuery,
  type SenderType,
} from './deadline-check.ts';
import {
  calendarDeadlines,
  calendarPeriodOf,
  calendarTaxYears,
  parseStsCalendar,
  STS_CALENDAR,
  STS_CALENDAR_FILE,
} from './sts-calendar.ts';

const raw = () => JSON.parse(readFileSync(STS_CALENDAR_FILE, 'utf8'));
const weekday = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
const isWeekend = (date: string) => [0, 6].includes(weekday(date));
const addDays = (date: string, days: number) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

describe('the shipped calendar (packages/sts/calendar/sts-calendar.json)', () => {
  it('is versioned, dated and covers 2024 (two halves), 2025 and 2026 without a gap', () => {
    expect(STS_CALENDAR.version).toBeGreaterThanOrEqual(1);
    expect(STS_CALENDAR.revised).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(calendarTaxYears()).toEqual([2024, 2025, 2026]);
    expect(STS_CALENDAR.periods.map((p) => [p.label, p.payments.from, p.payments.to])).toEqual([
      ['2024, first half', '2024-01-01', '2024-06-30'],
      ['2024, second half', '2024-07-01', '2024-12-31'],
      ['2025', '2025-01-01', '2025-12-31'],
      ['2026', '2026-01-01', '2026-12-31'],
    ]);
  });

  it('holds the dates of the sources, each stated or inferred as the research found', () => {
    const view = STS_CALENDAR.periods.map((p) => ({
      label: p.label,
      sending: `${p.sending.date} ${p.sending.basis}`,
      corrections: `${p.corrections.date} ${p.corrections.basis}`,
      objections: `${p.objections.from}..${p.objections.to} ${p.objections.basis}`,
      vets: `${p.veterinarians.sending.date} ${p.veterinarians.sending.basis} / ${p.veterinarians.corrections.date} ${p.veterinarians.corrections.basis}`,
    }));
    expect(view).toEqual([
      {
        label: '2024, first half',
        sending: '2024-09-30 stated',
        corrections: '2024-10-07 stated',
        objections: '2025-02-08..2025-03-08 inferred',
        vets: '2025-03-17 inferred / 2025-03-24 inferred',
      },
      {
        label: '2024, second half',
        sending: '2025-01-31 stated',
        corrections: '2025-02-07 stated',
        objections: '2025-02-08..2025-03-08 inferred',
        vets: '2025-03-17 inferred / 2025-03-24 inferred',
      },
      {
        label: '2025',
        sending: '2026-02-02 stated',
        corrections: '2026-02-09 stated',
        objections: '2026-02-10..2026-03-08 stated',
        vets: '2026-03-16 stated / 2026-03-23 stated',
      },
      {
        label: '2026',
        sending: '2027-02-01 stated',
        corrections: '2027-02-08 stated',
        objections: '2027-02-09..2027-03-08 stated',
        vets: '2027-03-16 stated / 2027-03-23 stated',
      },
    ]);
  });

  it('applies the weekend rule (DL 70/2011): every deadline is a working day, a moved one the first after its nominal day', () => {
    for (const period of STS_CALENDAR.periods) {
      for (const entry of [
        period.sending,
        period.corrections,
        period.veterinarians.sending,
        period.veterinarians.corrections,
      ]) {
        expect(isWeekend(entry.date), `${period.label} ${entry.date}`).toBe(false);
        if (entry.nominal) {
          expect(isWeekend(entry.nominal)).toBe(true);
          let moved = entry.nominal;
          while (isWeekend(moved)) moved = addDays(moved, 1);
          expect(entry.date).toBe(moved);
        }
      }
    }
    expect(STS_CALENDAR.rules.weekend.sources).toEqual(['dl-70-2011']);
  });

  it('cites a known source for every date and rule, and explains every inferred one', () => {
    const sources = Object.keys(STS_CALENDAR.sources);
    for (const period of STS_CALENDAR.periods) {
      for (const entry of [period.sending, period.corrections, period.objections]) {
        for (const id of entry.sources) expect(sources).toContain(id);
        if (entry.basis === 'inferred') expect(entry.note).toBeTruthy();
      }
    }
    expect(STS_CALENDAR.rules.operations.basis).toBe('inferred');
    expect(STS_CALENDAR.rules.veterinarians.text).toMatch(/veterinarians only/);
  });

  it('lists the deadlines of a year in date order, for metrics and reports', () => {
    const year = calendarDeadlines(2025);
    expect(year.known).toBe(true);
    expect(year.calendarVersion).toBe(STS_CALENDAR.version);
    expect(year.deadlines.map((d) => `${d.date} ${d.kind}`)).toEqual([
      '2026-02-02 sending',
      '2026-02-09 corrections',
      '2026-02-10 objections-open',
      '2026-03-08 objections-close',
      '2026-03-16 veterinary-sending',
      '2026-03-23 veterinary-corrections',
    ]);
    expect(year.deadlines[0]).toMatchObject({ nominal: '2026-01-31', basis: 'stated', confidence: 'high' });
    expect(calendarDeadlines(2024).periods).toHaveLength(2);
    expect(calendarDeadlines(2027)).toMatchObject({
      taxYear: 2027,
      known: false,
      periods: [],
      deadlines: [],
    });
    expect(calendarPeriodOf('2024-07-01')?.label).toBe('2024, second half');
    expect(calendarPeriodOf('2023-12-31')).toBeUndefined();
  });
});

describe('parseStsCalendar', () => {
  const broken = (change: (data: ReturnType<typeof raw>) => void) => {
    const data = raw();
    change(data);
    return () => parseStsCalendar(data, 'test calendar');
  };

  it('refuses a calendar that does not hold together, naming each problem', () => {
    expect(
      broken((d) => {
        d.periods[2].sending.sources = ['nowhere'];
      }),
    ).toThrow(/periods\.2\.sending\.sources: names the unknown source nowhere/);
    expect(
      broken((d) => {
        d.periods.splice(1, 1);
      }),
    ).toThrow(/periods\.1\.payments\.from: must start the day after the previous period ends/);
    expect(
      broken((d) => {
        d.periods[2].corrections.date = '2026-02-01';
      }),
    ).toThrow(/periods\.2\.corrections: before the sending deadline/);
    expect(
      broken((d) => {
        delete d.periods[0].veterinarians.corrections.note;
      }),
    ).toThrow(/an inferred date says why/);
    expect(
      broken((d) => {
        d.periods[3].sending.date = '2027-02-30';
      }),
    ).toThrow(/must be a real date/);
    expect(
      broken((d) => {
        d.rules.operations.allowedUntil.update = 'sending';
      }),
    ).toThrow(/ends before the operation is late/);
    expect(
      broken((d) => {
        d.surprise = true;
      }),
    ).toThrow(/test calendar is not valid/);
  });
});

describe('checkDeadline', () => {
  const at = (query: Omit<DeadlineQuery, 'operation'> & { operation?: DeadlineQuery['operation'] }) =>
    checkDeadline({ operation: 'insert', ...query });
  const brief = (answer: DeadlineAnswer) =>
    [answer.status, answer.onTimeUntil, answer.allowedUntil, answer.stsCode].filter(Boolean).join(' ');

  it('insert and refund: on time until sending, late (W008) until corrections, then closed (S035)', () => {
    for (const operation of ['insert', 'refund'] as const) {
      const on = (today: string) => brief(at({ operation, paymentDate: '2025-05-10', today }));
      expect(on('2025-05-10')).toBe('on-time 2026-02-02 2026-02-09');
      expect(on('2026-02-02')).toBe('on-time 2026-02-02 2026-02-09');
      expect(on('2026-02-03')).toBe('late 2026-02-02 2026-02-09 W008');
      expect(on('2026-02-09')).toBe('late 2026-02-02 2026-02-09 W008');
      expect(on('2026-02-10')).toBe('closed 2026-02-02 2026-02-09 S035');
    }
  });

  it('update and cancel: on time until corrections, then closed; never late', () => {
    for (const operation of ['update', 'cancel'] as const) {
      const on = (today: string) => brief(at({ operation, paymentDate: '2025-12-31', today }));
      expect(on('2026-02-05')).toBe('on-time 2026-02-09 2026-02-09');
      expect(on('2026-02-09')).toBe('on-time 2026-02-09 2026-02-09');
      expect(on('2026-02-10')).toBe('closed 2026-02-09 2026-02-09 S035');
    }
  });

  it('veterinarians keep their own window after the health deadline; other senders do not', () => {
    const vet = (today: string) =>
      brief(at({ paymentDate: '2025-09-01', today, senderType: 'veterinarian' }));
    expect(vet('2026-03-10')).toBe('on-time 2026-03-16 2026-03-23');
    expect(vet('2026-03-17')).toBe('late 2026-03-16 2026-03-23 W008');
    expect(vet('2026-03-24')).toBe('closed 2026-03-16 2026-03-23 S035');
    expect(brief(at({ paymentDate: '2025-09-01', today: '2026-03-10', senderType: 'other' }))).toBe(
      'closed 2026-02-02 2026-02-09 S035',
    );
    expect(brief(at({ paymentDate: '2025-09-01', today: '2026-03-10' }))).toMatch(/^closed/);
  });

  it('2024 goes by half-year: a first-half payment closes in October, a second-half one stays open', () => {
    expect(brief(at({ paymentDate: '2024-06-30', today: '2024-10-01' }))).toBe(
      'late 2024-09-30 2024-10-07 W008',
    );
    expect(brief(at({ paymentDate: '2024-06-30', today: '2024-10-08' }))).toBe(
      'closed 2024-09-30 2024-10-07 S035',
    );
    expect(brief(at({ paymentDate: '2024-07-01', today: '2024-10-08' }))).toBe(
      'on-time 2025-01-31 2025-02-07',
    );
    // The veterinary term is one for the whole year, inferred dates.
    const vet = at({ paymentDate: '2024-03-01', today: '2025-03-17', senderType: 'veterinarian' });
    expect(vet).toMatchObject({ status: 'on-time', onTimeUntil: '2025-03-17', basis: 'inferred' });
  });

  it('says which answers rest on stated dates and which on our inference', () => {
    expect(at({ paymentDate: '2025-05-10', today: '2026-01-10' }).basis).toBe('stated');
    expect(at({ paymentDate: '2025-05-10', today: '2026-02-03' }).basis).toBe('inferred');
    expect(at({ paymentDate: '2025-05-10', today: '2026-02-10' }).basis).toBe('inferred');
  });

  it('a year after the calendar is open with an unknown deadline: no date is invented', () => {
    const current = at({ paymentDate: '2027-03-01', today: '2027-06-01' });
    expect(current).toMatchObject({ status: 'unknown-deadline', allowed: true, taxYear: 2027 });
    expect(current.onTimeUntil).toBeUndefined();
    expect(current.allowedUntil).toBeUndefined();
    expect(current.stsCode).toBeUndefined();
    expect(current.reason).toMatch(/not published yet/);
    const past = at({ paymentDate: '2027-03-01', today: '2028-02-20' });
    expect(past).toMatchObject({ status: 'unknown-deadline', allowed: true });
    expect(past.reason).toMatch(/Revise the calendar/);
  });

  it('a year before the calendar is closed', () => {
    expect(at({ paymentDate: '2023-12-31', today: '2026-12-07' })).toMatchObject({
      status: 'closed',
      allowed: false,
      taxYear: 2023,
      stsCode: 'S035',
    });
  });

  it('refuses dates that are not dates (a programming error)', () => {
    expect(() => at({ paymentDate: '2025-02-30', today: '2026-01-01' })).toThrow(TypeError);
    expect(() => at({ paymentDate: '2025-02-03', today: '03/02/2026' })).toThrow(TypeError);
  });
});

describe('checkDeadline, properties', () => {
  const dayFrom = (start: string, span: number) =>
    fc.integer({ min: 0, max: span }).map((n) => addDays(start, n));
  const paymentDate = dayFrom('2022-06-01', 8 * 365);
  const today = dayFrom('2023-01-01', 8 * 365);
  const operation = fc.constantFrom(...OPERATIONS);
  const senderType = fc.constantFrom<SenderType>('veterinarian', 'other');
  const rank = (answer: DeadlineAnswer) =>
    answer.status === 'unknown-deadline' ? undefined : DEADLINE_STATUS_ORDER[answer.status];

  it('is monotonic: as days pass an answer never goes back (once closed, never open again)', () => {
    fc.assert(
      fc.property(
        operation,
        paymentDate,
        senderType,
        today,
        fc.integer({ min: 0, max: 800 }),
        (op, pay, who, t, later) => {
          const first = checkDeadline({ operation: op, paymentDate: pay, senderType: who, today: t });
          const second = checkDeadline({
            operation: op,
            paymentDate: pay,
            senderType: who,
            today: addDays(t, later),
          });
          if (first.status === 'unknown-deadline') return second.status === 'unknown-deadline';
          return rank(second)! >= rank(first)!;
        },
      ),
    );
  });

  it('is consistent: allowed unless closed, W008 exactly when late, S035 exactly when closed, dates in order', () => {
    fc.assert(
      fc.property(operation, paymentDate, senderType, today, (op, pay, who, t) => {
        const answer = checkDeadline({ operation: op, paymentDate: pay, senderType: who, today: t });
        expect(answer.allowed).toBe(answer.status !== 'closed');
        expect(answer.stsCode).toBe(
          answer.status === 'late' ? 'W008' : answer.status === 'closed' ? 'S035' : undefined,
        );
        expect(answer.taxYear).toBe(Number(pay.slice(0, 4)));
        if (answer.onTimeUntil && answer.allowedUntil) {
          expect(answer.onTimeUntil <= answer.allowedUntil).toBe(true);
          expect(answer.status === 'on-time').toBe(t <= answer.onTimeUntil);
          expect(answer.status === 'closed').toBe(t > answer.allowedUntil);
        }
        if (op === 'update' || op === 'cancel') expect(answer.status).not.toBe('late');
      }),
    );
  });

  it('never closes earlier for a veterinarian than for anyone else', () => {
    fc.assert(
      fc.property(operation, paymentDate, today, (op, pay, t) => {
        const vet = checkDeadline({ operation: op, paymentDate: pay, senderType: 'veterinarian', today: t });
        const other = checkDeadline({ operation: op, paymentDate: pay, senderType: 'other', today: t });
        return vet.status === other.status || rank(vet)! < rank(other)!;
      }),
    );
  });
});
