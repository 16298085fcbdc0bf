import { describe, expect, it } from 'vitest';
import { isStillProcessing, notReadyBasis, RECEIPT_WAIT_SCHEDULE, receiptWait } from './receipt-readiness.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('the wait before asking again (our schedule: the STS gives no hint)', () => {
  it('is 5 s, 15 s, 1 min, 5 min, then every 15 min; overdue after a day (docs/decisions.md)', () => {
    expect(RECEIPT_WAIT_SCHEDULE).toEqual({
      firstWaitsMs: [5 * SECOND, 15 * SECOND, MINUTE, 5 * MINUTE],
      steadyWaitMs: 15 * MINUTE,
      overdueAfterMs: 24 * HOUR,
    });
    const waits = [1, 2, 3, 4, 5, 6, 50].map((attempt) => receiptWait({ attempt }).retryAfterMs);
    expect(waits).toEqual([
      5 * SECOND,
      15 * SECOND,
      MINUTE,
      5 * MINUTE,
      15 * MINUTE,
      15 * MINUTE,
      15 * MINUTE,
    ]);
  });

  it('a first ask, without input, waits 5 s', () => {
    expect(receiptWait()).toEqual({ retryAfterMs: 5 * SECOND, attempt: 1, overdue: false });
  });

  it('never shrinks from one attempt to the next, and never exceeds 15 min', () => {
    let previous = 0;
    for (let attempt = 1; attempt <= 500; attempt++) {
      const { retryAfterMs } = receiptWait({ attempt });
      expect(retryAfterMs).toBeGreaterThanOrEqual(previous);
      expect(retryAfterMs).toBeLessThanOrEqual(RECEIPT_WAIT_SCHEDULE.steadyWaitMs);
      previous = retryAfterMs;
    }
  });

  it('is overdue once the schedule has waited a day: 380 s, then 15 min per attempt', () => {
    // Before attempt n > 5: 5 + 15 + 60 + 300 s, then (n - 5) × 15 min.
    expect(receiptWait({ attempt: 100 }).overdue).toBe(false); // 23 h 51 min 20 s
    expect(receiptWait({ attempt: 101 })).toEqual({ retryAfterMs: 15 * MINUTE, attempt: 101, overdue: true });
  });

  it('takes the upload age into account: an old upload asked for the first time waits as if asked all along', () => {
    expect(receiptWait({ uploadAgeMs: 0 }).attempt).toBe(1);
    expect(receiptWait({ uploadAgeMs: 4_999 }).attempt).toBe(1);
    expect(receiptWait({ uploadAgeMs: 5_000 })).toMatchObject({ attempt: 2, retryAfterMs: 15 * SECOND });
    expect(receiptWait({ uploadAgeMs: 20_000 })).toMatchObject({ attempt: 3, retryAfterMs: MINUTE });
    expect(receiptWait({ uploadAgeMs: 10 * MINUTE })).toMatchObject({
      attempt: 5,
      retryAfterMs: 15 * MINUTE,
    });
    // 2 h: 380 s, then 7 whole steady waits fit in the rest.
    expect(receiptWait({ attempt: 2, uploadAgeMs: 2 * HOUR })).toMatchObject({ attempt: 12, overdue: false });
    expect(receiptWait({ uploadAgeMs: 25 * HOUR })).toMatchObject({
      retryAfterMs: 15 * MINUTE,
      overdue: true,
    });
  });

  it('the age never lowers the count of asks; an upload stamped in the future counts as new', () => {
    expect(receiptWait({ attempt: 7, uploadAgeMs: 0 })).toMatchObject({
      attempt: 7,
      retryAfterMs: 15 * MINUTE,
    });
    expect(receiptWait({ uploadAgeMs: -3_000 })).toEqual({
      retryAfterMs: 5 * SECOND,
      attempt: 1,
      overdue: false,
    });
  });

  it('refuses input that is a programming error', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN])
      expect(() => receiptWait({ attempt })).toThrow(RangeError);
    expect(() => receiptWait({ uploadAgeMs: Number.NaN })).toThrow(RangeError);
    expect(() => receiptWait({ uploadAgeMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe('"not ready yet" or final: the one rule', () => {
  const notice = (code: string, description = '') => ({ code, description });

  it('a code of class processing (WS15, unconfirmed) is "not ready", whatever the stato', () => {
    expect(notReadyBasis([notice('WS15', 'RICEVUTA NON DISPONIBILE')], undefined)).toBe('sts-code');
    expect(notReadyBasis([notice('ws15')], 2)).toBe('sts-code');
  });

  it('inferred: any other negative answer while the file was still at stato 0/1 is "not ready"', () => {
    expect(notReadyBasis([notice('WS96', 'LA RICERCA NON HA PRODOTTO RISULTATI')], 0)).toBe(
      'still-processing',
    );
    expect(notReadyBasis([notice('XY42', 'ALTRO')], 1)).toBe('still-processing');
    expect(notReadyBasis([], 1)).toBe('still-processing');
  });

  it('a final code stays final, even with WS15 beside it or a stato 0/1 (WS37: the file was rejected)', () => {
    expect(notReadyBasis([notice('WS37', 'FILE SCARTATO, CONTROLLARE LA RICEVUTA PDF')], 1)).toBeUndefined();
    expect(notReadyBasis([notice('WS37'), notice('WS15')], undefined)).toBeUndefined();
    expect(notReadyBasis([notice('WS46')], 0)).toBeUndefined();
  });

  it('everything else negative is final: processed files, unknown stato', () => {
    for (const state of [2, 3, 5, 9]) expect(notReadyBasis([notice('WS96')], state)).toBeUndefined();
    expect(notReadyBasis([notice('WS96')], undefined)).toBeUndefined();
    expect(notReadyBasis([notice('XY42')], undefined)).toBeUndefined();
  });

  it('stato 0 and 1 are the ones still processing, read from the catalogue', () => {
    expect([0, 1, 2, 3, 5, 9].map(isStillProcessing)).toEqual([true, true, false, false, false, false]);
    expect(isStillProcessing(undefined)).toBe(false);
  });
});
