import { describe, expect, it } from 'vitest';
import { romeDate, romeTime } from './time.ts';

describe('civil time in Italy', () => {
  it('is the Rome date, not the UTC one, around midnight and across daylight saving', () => {
    // 23:30 UTC on 31 December is already 1 January in Rome (UTC+1 in winter).
    expect(romeDate(new Date('2026-12-31T23:30:00Z'))).toBe('2027-01-01');
    // 22:30 UTC on 30 June is 00:30 on 1 July in Rome (UTC+2 in summer).
    expect(romeTime(new Date('2026-06-30T22:30:05Z'))).toEqual({
      year: '2026',
      month: '07',
      day: '01',
      hour: '00',
      minute: '30',
      second: '05',
    });
    expect(romeDate(new Date('2027-02-01T12:00:00Z'))).toBe('2027-02-01');
  });
});
