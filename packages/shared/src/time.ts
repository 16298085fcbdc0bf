/**
 * Time, defined once. Every service takes a `Clock` (tests inject one they control), and every date
 * the STS sees is a civil date or time in Italy (Europe/Rome), whatever the server's time zone.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Civil time in Italy, as two-digit (four for the year) strings. */
export interface RomeTime {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

const romeFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export function romeTime(at: Date): RomeTime {
  const parts: Record<string, string> = {};
  for (const part of romeFormatter.formatToParts(at)) parts[part.type] = part.value;
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The civil date in Italy, `YYYY-MM-DD`, as the STS counts days. */
export function romeDate(at: Date): string {
  const t = romeTime(at);
  return `${t.year}-${t.month}-${t.day}`;
}
