import { romeDate, romeTime } from '@sts/shared';

// Civil time in Italy (what every STS date is written in) comes from packages/shared; these are the
// STS's own ways of writing it.

/** `dd-MM-yyyy HH:mm:ss` (dataAccoglienza, dataInvio of EsitoInvii). */
export function formatDashedTimestamp(date: Date): string {
  const t = romeTime(date);
  return `${t.day}-${t.month}-${t.year} ${t.hour}:${t.minute}:${t.second}`;
}

/** `yyyy-MM-dd`, the civil date in Italy. */
export const isoDate = romeDate;

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
