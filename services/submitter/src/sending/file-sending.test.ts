import { describe, expect, it } from 'vitest';
import { parseStsTime } from './file-sending.ts';

describe('parseStsTime', () => {
  it('reads the STS time as Italian civil time, winter and summer', () => {
    expect(parseStsTime('07-12-2026 21:05:09')?.toISOString()).toBe('2026-12-07T20:05:09.000Z');
    expect(parseStsTime('15-07-2026 14:00:00')?.toISOString()).toBe('2026-07-15T12:00:00.000Z');
    // The night the clocks go back: 02:30 happens twice; either reading is within the hour.
    expect(parseStsTime('25-10-2026 03:30:00')?.toISOString()).toBe('2026-10-25T02:30:00.000Z');
    expect(parseStsTime('29-03-2026 01:59:59')?.toISOString()).toBe('2026-03-29T00:59:59.000Z');
    expect(parseStsTime('29-03-2026 03:00:00')?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('gives nothing for text that is not an STS time', () => {
    expect(parseStsTime(null)).toBeUndefined();
    expect(parseStsTime('2026-12-07 21:05:09')).toBeUndefined();
    expect(parseStsTime('99-99-2026 99:99:99')).toBeUndefined();
  });
});
