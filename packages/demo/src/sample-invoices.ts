import { taxCodeCheckCharacter } from '@sts/shared';

/**
 * The demo's sample events: deterministic (the same size gives the same file, so a second run finds
 * them already sent), dated in the current tax year up to today, so the STS takes them on time.
 * The mix shows what a shop meets: medicines and medical devices, one patient in ten who opposed,
 * one document in ninety-seven paid in a closed tax year (the STS refuses it with S035), and some
 * documents later corrected or cancelled.
 */

export interface SampleOptions {
  documents: number;
  /** Today in Rome, `YYYY-MM-DD`. */
  today: string;
  /** The issuer's partita IVA (the demo credential's). */
  vatNumber: string;
}

export interface SampleSet {
  /** One NDJSON line per event. */
  lines: string[];
  /** What each kind of event should end as, for the summary's explanation. */
  counts: { inserts: number; updates: number; cancels: number; closedYear: number };
}

const CONSONANTS = 'BCDFGHLMNPRSTVZ';
const MONTH_LETTERS = 'ABCDEHLMPRST';

/** A well-formed codice fiscale for sample patient `n` (a made-up person, valid check character). */
export function samplePatientTaxCode(n: number): string {
  const pick = (k: number) => CONSONANTS[k % CONSONANTS.length]!;
  const name = `${pick(n)}${pick(n >> 4)}${pick(n >> 8)}${pick(n >> 12)}${pick(n >> 16)}${pick(n >> 20)}`;
  const year = String(40 + (n % 60)).padStart(2, '0');
  const first15 = `${name}${year}${MONTH_LETTERS[n % 12]}${String(1 + (n % 28)).padStart(2, '0')}H501`;
  return first15 + taxCodeCheckCharacter(first15);
}

/** Medicines and medical devices, what a parafarmacia sells (both may be paid in cash). */
const EXPENSE_TYPES = ['FC', 'FC', 'AD'] as const;
const isClosedYear = (n: number) => n % 97 === 0;
const isCorrected = (n: number) => n % 40 === 0 && !isClosedYear(n);
const isCancelled = (n: number) => n % 100 === 55 && !isClosedYear(n);

function dayOfYear(today: string, n: number): string {
  const year = Number(today.slice(0, 4));
  const start = Date.UTC(year, 0, 1);
  const days = Math.floor((Date.parse(`${today}T00:00:00Z`) - start) / 86_400_000) + 1;
  return new Date(start + (n % days) * 86_400_000).toISOString().slice(0, 10);
}

export function sampleInvoices(options: SampleOptions): SampleSet {
  const year = Number(options.today.slice(0, 4));
  const documentOf = (n: number) => {
    const date = isClosedYear(n) ? `${year - 2}-06-15` : dayOfYear(options.today, n);
    return {
      id: {
        vatNumber: options.vatNumber,
        issueDate: date,
        device: 1,
        number: `DEMO-${date.slice(0, 4)}/${n}`,
      },
      paymentDate: date,
      patient:
        n % 10 === 0
          ? { kind: 'opposed' as const }
          : { kind: 'identified' as const, taxCode: samplePatientTaxCode(n) },
      traceablePayment: n % 9 !== 0,
      documentType: 'invoice' as const,
      lines: [
        {
          expenseType: EXPENSE_TYPES[n % EXPENSE_TYPES.length]!,
          amount: `${4 + (n % 96)}.90`,
          vatRate: '10.00',
        },
      ],
    };
  };
  const lines: string[] = [];
  const counts = { inserts: 0, updates: 0, cancels: 0, closedYear: 0 };
  for (let n = 1; n <= options.documents; n++) {
    lines.push(JSON.stringify({ operation: 'insert', document: documentOf(n) }));
    counts.inserts++;
    if (isClosedYear(n)) counts.closedYear++;
  }
  for (let n = 1; n <= options.documents; n++) {
    if (isCorrected(n)) {
      const document = documentOf(n);
      const lines2 = [{ expenseType: 'FC' as const, amount: `${2 + (n % 50)}.50`, vatRate: '10.00' }];
      lines.push(JSON.stringify({ operation: 'update', document: { ...document, lines: lines2 } }));
      counts.updates++;
    } else if (isCancelled(n)) {
      lines.push(JSON.stringify({ operation: 'cancel', document: { id: documentOf(n).id } }));
      counts.cancels++;
    }
  }
  return { lines, counts };
}
