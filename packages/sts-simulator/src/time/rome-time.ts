/** Civil time in Italy, which is what every STS date and timestamp is written in. */
export interface RomeTime {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

const formatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export function romeTime(date: Date): RomeTime {
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(date)) parts[part.type] = part.value;
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** `dd-MM-yyyy HH:mm:ss` (dataAccoglienza, dataInvio of EsitoInvii). */
export function formatDashedTimestamp(date: Date): string {
  const t = romeTime(date);
  return `${t.day}-${t.month}-${t.year} ${t.hour}:${t.minute}:${t.second}`;
}

/** `yyyy-MM-dd`, the civil date in Italy. */
export function isoDate(date: Date): string {
  const t = romeTime(date);
  return `${t.year}-${t.month}-${t.day}`;
}

/** `yyyy-MM-dd` → `dd/mm/yyyy` (DettaglioErrori CSV). */
export function slashedDate(isoDay: string): string {
  const [year, month, day] = isoDay.split('-');
  return `${day}/${month}/${year}`;
}

/** `dd-mm-yyyy` → `yyyy-MM-dd`, or undefined if it is not a real date in that form. */
export function parseDashedDate(value: string): string | undefined {
  const match = /^(\d{2})-(\d{2})-(\d{4})$/.exec(value.trim());
  if (!match) return undefined;
  const iso = `${match[3]}-${match[2]}-${match[1]}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== iso ? undefined : iso;
}
