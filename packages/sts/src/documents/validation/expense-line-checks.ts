import { type DecimalProblem, formatHundredths, parseHundredths } from '../decimal-amount.ts';
import {
  EXPENSE_TYPE_FLAGS,
  EXPENSE_TYPES,
  type ExpenseLine,
  type ExpenseType,
  type ExpenseTypeFlag,
} from '../expense-document.ts';
import { type Add, isRecord, type ResolvedRules } from './validation-support.ts';

export const AMOUNT_MAX = '99999.99';
/**
 * FatturaPA "Natura" codes: "N1..N7 or sub-values" for invoices, including the pre-2021 codes N2, N3,
 * N6 that later got sub-codes. Receipts take only N1–N6, two characters (spec v2.5, naturaIVA).
 */
export const VAT_NATURES: readonly string[] = [
  'N1',
  'N2',
  'N2.1',
  'N2.2',
  'N3',
  'N3.1',
  'N3.2',
  'N3.3',
  'N3.4',
  'N3.5',
  'N3.6',
  'N4',
  'N5',
  'N6',
  'N6.1',
  'N6.2',
  'N6.3',
  'N6.4',
  'N6.5',
  'N6.6',
  'N6.7',
  'N6.8',
  'N6.9',
  'N7',
];
export const RECEIPT_VAT_NATURES: readonly string[] = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6'];

const decimalMessages = (what: string, problem: DecimalProblem, max: string): [string, string, string] => {
  switch (problem) {
    case 'type':
      return [
        'format',
        `The ${what} must be a decimal string.`,
        `Send the ${what} as a string such as "52.10".`,
      ];
    case 'format':
      return [
        'format',
        `The ${what} is not a plain decimal number.`,
        `Use digits and a dot for decimals, without sign, thousands separators or spaces, e.g. "1250.50".`,
      ];
    case 'decimals':
      return [
        'decimals',
        `The ${what} has more than two decimals.`,
        `Round the ${what} to cents, e.g. "52.10".`,
      ];
    case 'too-large':
      return [
        'too-large',
        `The ${what} is above the maximum of ${max}.`,
        `Check the ${what}; the STS accepts at most ${max}.`,
      ];
  }
};

/** One expense line: its type (and flag), its amount, and its VAT rate or nature code. */
function checkLine(
  value: unknown,
  path: string,
  documentType: unknown,
  rules: ResolvedRules,
  add: Add,
): ExpenseLine | undefined {
  if (!isRecord(value)) {
    add(
      path,
      'document.line.type',
      'The expense line is not an object.',
      'Give each line an expense type and an amount.',
    );
    return undefined;
  }
  let ok = true;
  const expenseType = value.expenseType;
  if (!EXPENSE_TYPES.includes(expenseType as ExpenseType)) {
    ok = false;
    add(
      `${path}.expenseType`,
      'document.expense-type.unknown',
      'The expense type is not one of the official codes.',
      `Use one of ${EXPENSE_TYPES.join(', ')}.`,
    );
  }
  const flag = value.expenseTypeFlag;
  if (flag !== undefined) {
    if (!EXPENSE_TYPE_FLAGS.includes(flag as ExpenseTypeFlag)) {
      ok = false;
      add(
        `${path}.expenseTypeFlag`,
        'document.expense-type-flag.unknown',
        'The expense type flag is not known.',
        'Use "emergency-ticket" (with TK) or "intramoenia" (with SR), or leave it out.',
      );
    } else if (flag === 'emergency-ticket' && expenseType !== 'TK') {
      ok = false;
      add(
        `${path}.expenseTypeFlag`,
        'document.expense-type-flag.emergency-ticket',
        'The emergency (pronto soccorso) flag is allowed only on TK ticket lines.',
        'Remove the flag or set the expense type to TK.',
      );
    } else if (flag === 'intramoenia' && expenseType !== 'SR') {
      ok = false;
      add(
        `${path}.expenseTypeFlag`,
        'document.expense-type-flag.intramoenia',
        'The intramoenia flag is allowed only on SR lines.',
        'Remove the flag or set the expense type to SR.',
      );
    }
  }

  let amount: string | undefined;
  const parsedAmount = parseHundredths(value.amount, 5);
  if (!parsedAmount.ok) {
    const [suffix, message, hint] = decimalMessages('amount', parsedAmount.problem, AMOUNT_MAX);
    add(`${path}.amount`, `document.amount.${suffix}`, message, hint);
  } else if (parsedAmount.hundredths <= 0) {
    add(
      `${path}.amount`,
      'document.amount.not-positive',
      'The amount must be at least 0.01, refunds included.',
      'Send the paid (or refunded) amount as a positive number; leave out zero lines.',
    );
  } else {
    amount = formatHundredths(parsedAmount.hundredths);
  }
  if (amount === undefined) ok = false;

  const hasRate = value.vatRate !== undefined;
  const hasNature = value.vatNature !== undefined;
  let vatRate: string | undefined;
  let vatNature: string | undefined;
  if (hasRate && hasNature) {
    ok = false;
    add(
      path,
      'document.vat.both',
      'A line carries either a VAT rate or a VAT nature code, not both.',
      'Keep the VAT rate for taxed lines, or the nature code (e.g. N4) for exempt ones.',
    );
  } else if (!hasRate && !hasNature && rules.vatRequired) {
    ok = false;
    add(
      path,
      'document.vat.missing',
      'A line needs a VAT rate or a VAT nature code.',
      'Give the VAT rate (e.g. "22.00") or, for operations without VAT, the nature code (e.g. N4).',
    );
  }
  if (hasRate) {
    const parsed = parseHundredths(value.vatRate, 3);
    if (!parsed.ok) {
      ok = false;
      const [suffix, message, hint] = decimalMessages('VAT rate', parsed.problem, '100.00');
      add(`${path}.vatRate`, `document.vat-rate.${suffix === 'too-large' ? 'range' : suffix}`, message, hint);
    } else if (parsed.hundredths > 10000) {
      ok = false;
      add(
        `${path}.vatRate`,
        'document.vat-rate.range',
        'The VAT rate must be between 0 and 100.',
        'Give the rate as a percentage, e.g. "22.00" or "10.00".',
      );
    } else {
      vatRate = formatHundredths(parsed.hundredths);
    }
  }
  if (hasNature) {
    const nature = typeof value.vatNature === 'string' ? value.vatNature.trim().toUpperCase() : undefined;
    if (nature === undefined || !VAT_NATURES.includes(nature)) {
      ok = false;
      add(
        `${path}.vatNature`,
        'document.vat-nature.unknown',
        'The VAT nature is not a FatturaPA nature code.',
        'Use a code from N1 to N7 or a sub-code such as N2.1, as on the electronic invoice (often N4 for exempt health services).',
      );
    } else if (documentType === 'receipt' && !RECEIPT_VAT_NATURES.includes(nature)) {
      ok = false;
      add(
        `${path}.vatNature`,
        'document.vat-nature.receipt',
        'Receipts (documenti commerciali) accept only the nature codes N1 to N6, without sub-codes.',
        'Use the two-character code (e.g. N2 instead of N2.1; N7 is for invoices only).',
      );
    } else {
      vatNature = nature;
    }
  }
  if (!ok || amount === undefined) return undefined;
  return {
    expenseType: expenseType as ExpenseType,
    ...(flag !== undefined ? { expenseTypeFlag: flag as ExpenseTypeFlag } : {}),
    amount,
    ...(vatRate !== undefined ? { vatRate } : {}),
    ...(vatNature !== undefined ? { vatNature } : {}),
  };
}

/** The expense lines of a document (at least one); the document type decides the VAT natures allowed. */
export function checkLines(
  value: unknown,
  documentType: unknown,
  rules: ResolvedRules,
  add: Add,
): ExpenseLine[] {
  const lines: ExpenseLine[] = [];
  if (!Array.isArray(value) || value.length === 0) {
    add(
      'lines',
      'document.lines.missing',
      'A document needs at least one expense line.',
      'Add one line per expense type with its amount.',
    );
  } else {
    value.forEach((line, index) => {
      const checked = checkLine(line, `lines[${index}]`, documentType, rules, add);
      if (checked) lines.push(checked);
    });
  }
  return lines;
}
