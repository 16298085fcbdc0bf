/**
 * What every section check of a document shares: the rules in force, how a violation is reported,
 * and the small type checks. Each section lives in its own `*-checks.ts`; `../validate-document.ts`
 * runs them in the order the violations are listed.
 */

/** Context that decides rules the spec leaves to who sends and when. */
export interface DocumentRules {
  /** Accept the official test kit's identifiers (format checked, check digits not). Default false. */
  allowKitTestIdentifiers?: boolean;
  /**
   * `tipoDocumento` is mandatory for expenses from 2021 (DM 19/10/2020; "O" in spec v2.5, optional in
   * the XSD only for older years). Default true; false only to correct pre-2021 documents.
   */
  documentTypeRequired?: boolean;
  /**
   * One of `aliquotaIVA`/`naturaIVA` is mandatory (same decree, same "O/F" in v2.5; the XSD choice is
   * optional for older years). Defaults to `documentTypeRequired`.
   */
  vatRequired?: boolean;
  /**
   * The sender is a public or accredited specialist structure, exempt from `pagamentoTracciato`
   * (spec v2.5, note on pagamentoTracciato). Default false.
   */
  traceablePaymentExempt?: boolean;
  /**
   * Today in Italy, `YYYY-MM-DD` (`romeDate(clock())`): turns on the date rules (`date-rules.ts`):
   * no issue or payment date after today, no payment of a closed tax year (S035), and the deadline
   * answer with its late notice (W008). Absent: none of them run (callers that predate them).
   */
  today?: string;
  /** The sender is a veterinarian: the veterinary deadlines apply (not to pharmacies sending FV). Default false. */
  veterinarian?: boolean;
  /**
   * The kit test environment seems not to enforce closed tax years (docs/protocol.md §4.3): a closed
   * year is then reported as a notice, not refused. Future dates are still refused. Default false.
   */
  relaxedCalendar?: boolean;
}

export interface ResolvedRules {
  allowKitTestIdentifiers: boolean;
  documentTypeRequired: boolean;
  vatRequired: boolean;
  traceablePaymentExempt: boolean;
  today: string | undefined;
  veterinarian: boolean;
  relaxedCalendar: boolean;
}

export const resolveRules = (rules: DocumentRules = {}): ResolvedRules => {
  const documentTypeRequired = rules.documentTypeRequired ?? true;
  // A programming error, not bad input: the caller computes today from its clock.
  if (rules.today !== undefined && !isCalendarDate(rules.today))
    throw new TypeError('DocumentRules.today must be a YYYY-MM-DD date (romeDate(clock()))');
  return {
    allowKitTestIdentifiers: rules.allowKitTestIdentifiers ?? false,
    documentTypeRequired,
    vatRequired: rules.vatRequired ?? documentTypeRequired,
    traceablePaymentExempt: rules.traceablePaymentExempt ?? false,
    today: rules.today,
    veterinarian: rules.veterinarian ?? false,
    relaxedCalendar: rules.relaxedCalendar ?? false,
  };
};

/**
 * Reports one violation: where, a stable code, what is wrong (never the value), what to do, and the
 * message code the STS (or, for our own rules, the simulator) answers for the same problem.
 */
export type Add = (path: string, code: string, message: string, hint: string, stsCode?: string) => void;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A real `YYYY-MM-DD` calendar date (leap years included). */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= daysInMonth;
}
