import { checkTaxCode, checkVatNumber, type IdentifierCheck } from '@sts/shared/identifiers';
import { type DecimalProblem, formatHundredths, parseHundredths } from './decimal-amount.ts';
import {
  type DocumentId,
  type DocumentType,
  type EncryptedTaxCode,
  EXPENSE_TYPE_FLAGS,
  EXPENSE_TYPES,
  type ExpenseDocument,
  type ExpenseLine,
  type ExpenseType,
  type ExpenseTypeFlag,
  OPERATIONS,
  type Operation,
  type Patient,
  type PlainExpenseDocument,
  type Sender,
} from './expense-document.ts';

/**
 * Validation of a document and its sender against everything the STS checks that we can check
 * locally: every facet of `730_precompilata.xsd` and `DocumentoSpesa730pSchema.xsd` (the stricter
 * of the two where they differ) and the business rules of the async spec v2.5 (docs/protocol.md
 * §3.2). All violations are returned, never only the first. Messages never contain the values.
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
}

export interface DocumentViolation {
  /** Where, in our English model: `lines[2].vatNature`, `id.issueDate`, `sender.taxCode`. */
  path: string;
  /** Stable, e.g. `document.vat-nature.receipt`. */
  code: string;
  /** What is wrong (never the value itself). */
  message: string;
  /** What the user should do about it. */
  hint: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; violations: DocumentViolation[] };

export const ISSUE_DATE_MIN = '2014-01-01';
export const PAYMENT_DATE_MIN = '2015-01-01';
/** `pagamentoTracciato` is mandatory for payments from this day (spec v2.3, 17/12/2019). */
export const TRACEABLE_PAYMENT_REQUIRED_FROM = '2020-01-01';
export const AMOUNT_MAX = '99999.99';
/** Expense types that never need `pagamentoTracciato` (spec v2.5). */
export const TRACEABLE_PAYMENT_OPTIONAL_TYPES: ReadonlySet<ExpenseType> = new Set(['TK', 'FC', 'AD', 'FV']);
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

const DOCUMENT_NUMBER_CHARS = /^[A-Za-z0-9_./\\-]*$/;
const REGION_OR_ASL_CODE = /^[A-Z0-9]{3}$/;
const SSA_CODE = /^[A-Z0-9]{5,6}$/;
/** A SanitelCF ciphertext: base64 on one line; the XSD allows up to 256 characters. */
const ENCRYPTED_TAX_CODE = /^[A-Za-z0-9+/]+={0,2}$/;

interface ResolvedRules {
  allowKitTestIdentifiers: boolean;
  documentTypeRequired: boolean;
  vatRequired: boolean;
  traceablePaymentExempt: boolean;
}

const resolveRules = (rules: DocumentRules = {}): ResolvedRules => {
  const documentTypeRequired = rules.documentTypeRequired ?? true;
  return {
    allowKitTestIdentifiers: rules.allowKitTestIdentifiers ?? false,
    documentTypeRequired,
    vatRequired: rules.vatRequired ?? documentTypeRequired,
    traceablePaymentExempt: rules.traceablePaymentExempt ?? false,
  };
};

type Add = (path: string, code: string, message: string, hint: string) => void;

const isRecord = (value: unknown): value is Record<string, unknown> =>
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

/** How a codice fiscale is carried: in clear (checked as an identifier) or encrypted (checked as ciphertext). */
interface TaxCodeForm<T> {
  check(value: unknown, path: string, scope: string, who: string, add: Add, entity: boolean): T | undefined;
}

const plainTaxCode = (rules: ResolvedRules): TaxCodeForm<string> => ({
  check(value, path, scope, who, add, entity) {
    const result: IdentifierCheck = checkTaxCode(value, {
      allowKitTestIdentifiers: rules.allowKitTestIdentifiers,
      allowEntityTaxCode: entity,
    });
    if (result.ok) return result.value;
    add(
      path,
      `${scope}.${result.problem.code}`,
      `The codice fiscale of the ${who} is not valid.`,
      result.problem.message,
    );
    return undefined;
  },
});

const encryptedTaxCode: TaxCodeForm<EncryptedTaxCode> = {
  check(value, path, scope, who, add) {
    const encrypted = isRecord(value) ? value.encrypted : undefined;
    if (typeof encrypted === 'string' && encrypted.length <= 256 && ENCRYPTED_TAX_CODE.test(encrypted)) {
      return { encrypted };
    }
    add(
      path,
      `${scope}.encrypted-tax-code.format`,
      `The encrypted codice fiscale of the ${who} is not a single-line base64 SanitelCF ciphertext of at most 256 characters.`,
      'Encrypt the codice fiscale with the SanitelCF certificate (RSA PKCS#1 v1.5) and pass the base64 on one line.',
    );
    return undefined;
  },
};

function checkDocumentId(
  value: unknown,
  path: string,
  rules: ResolvedRules,
  add: Add,
): DocumentId | undefined {
  if (!isRecord(value)) {
    add(
      path,
      'document.id.missing',
      'The document identifier is missing.',
      'Give the VAT number, issue date, device and number of the fiscal document.',
    );
    return undefined;
  }
  let ok = true;
  const vat = checkVatNumber(value.vatNumber, { allowKitTestIdentifiers: rules.allowKitTestIdentifiers });
  if (!vat.ok) {
    ok = false;
    add(
      `${path}.vatNumber`,
      `document.${vat.problem.code}`,
      'The partita IVA of the issuer is not valid.',
      vat.problem.message,
    );
  }
  const issueDate = value.issueDate;
  if (!isCalendarDate(issueDate)) {
    ok = false;
    add(
      `${path}.issueDate`,
      'document.issue-date.format',
      'The issue date is not a real calendar date in the form YYYY-MM-DD.',
      'Write the issue date as YYYY-MM-DD, e.g. 2025-03-31.',
    );
  } else if (issueDate < ISSUE_DATE_MIN) {
    ok = false;
    add(
      `${path}.issueDate`,
      'document.issue-date.too-early',
      'The STS does not accept documents issued before 1 January 2014.',
      'Check the issue date; documents issued before 2014 cannot be sent.',
    );
  }
  const device = value.device;
  if (typeof device !== 'number' || !Number.isInteger(device)) {
    ok = false;
    add(
      `${path}.device`,
      'document.device.format',
      'The device (cash register number) must be a whole number.',
      'Use 1 for invoices and receipts without a register, otherwise the register number (1–999).',
    );
  } else if (device < 1 || device > 999) {
    ok = false;
    add(
      `${path}.device`,
      'document.device.range',
      'The device (cash register number) must be between 1 and 999.',
      'Use 1 for invoices and receipts without a register, otherwise the register number (1–999).',
    );
  }
  const number = value.number;
  if (typeof number !== 'string' || number.length < 1 || number.length > 20) {
    ok = false;
    add(
      `${path}.number`,
      'document.number.length',
      'The document number must have 1 to 20 characters.',
      'Send the document number exactly as printed on the document; the STS accepts at most 20 characters.',
    );
  } else if (!DOCUMENT_NUMBER_CHARS.test(number)) {
    ok = false;
    add(
      `${path}.number`,
      'document.number.format',
      'The document number may contain only letters A–Z and a–z, digits and the characters _ . / \\ - (no spaces).',
      'Remove spaces and other characters; only letters, digits and _ . / \\ - are accepted.',
    );
  }
  if (!ok || !vat.ok) return undefined;
  return {
    vatNumber: vat.value,
    issueDate: issueDate as string,
    device: device as number,
    number: number as string,
  };
}

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

function checkDocument<T>(
  input: unknown,
  rules: ResolvedRules,
  taxCodeForm: TaxCodeForm<T>,
  add: Add,
): ExpenseDocument<T> | undefined {
  if (!isRecord(input)) {
    add('', 'document.type', 'The document is not an object.', 'Send the document as a JSON object.');
    return undefined;
  }
  let ok = true;
  const fail: Add = (...args) => {
    ok = false;
    add(...args);
  };

  const operation = input.operation as Operation;
  if (!OPERATIONS.includes(operation)) {
    fail(
      'operation',
      'document.operation.unknown',
      'The operation is not known.',
      `Use one of ${OPERATIONS.join(', ')}.`,
    );
  }
  const id = checkDocumentId(input.id, 'id', rules, fail);

  let refundedDocumentId: DocumentId | undefined;
  if (operation === 'refund') {
    if (input.refundedDocumentId === undefined) {
      fail(
        'refundedDocumentId',
        'document.refunded-id.missing',
        'A refund must name the original document it refunds.',
        'Give the VAT number, issue date, device and number of the refunded document.',
      );
    } else {
      refundedDocumentId = checkDocumentId(input.refundedDocumentId, 'refundedDocumentId', rules, fail);
    }
  } else if (input.refundedDocumentId !== undefined) {
    fail(
      'refundedDocumentId',
      'document.refunded-id.unexpected',
      'Only refunds name a refunded document.',
      'Remove refundedDocumentId, or set the operation to refund.',
    );
  }

  const paidInAdvance = input.paidInAdvance;
  if (paidInAdvance !== undefined && typeof paidInAdvance !== 'boolean') {
    fail(
      'paidInAdvance',
      'document.paid-in-advance.type',
      'paidInAdvance must be true or false.',
      'Send a boolean.',
    );
  }
  const paymentDate = input.paymentDate;
  if (!isCalendarDate(paymentDate)) {
    fail(
      'paymentDate',
      'document.payment-date.format',
      'The payment date is not a real calendar date in the form YYYY-MM-DD.',
      'Write the payment date as YYYY-MM-DD, e.g. 2025-03-31.',
    );
  } else if (paymentDate < PAYMENT_DATE_MIN) {
    fail(
      'paymentDate',
      'document.payment-date.too-early',
      'The STS does not accept payments made before 1 January 2015.',
      'Check the payment date.',
    );
  } else if (id) {
    if (operation === 'refund' && paymentDate !== id.issueDate) {
      fail(
        'paymentDate',
        'document.payment-date.refund',
        'For a refund the payment date must equal the issue date of the refund document.',
        'Set the payment date to the issue date of the refund document.',
      );
    } else if (paymentDate < id.issueDate && paidInAdvance !== true) {
      fail(
        'paymentDate',
        'document.payment-date.before-issue',
        'The payment date is before the issue date, which is allowed only for payments made in advance.',
        'Correct the dates, or set paidInAdvance if the patient really paid before the document was issued.',
      );
    } else if (paidInAdvance === true && paymentDate > id.issueDate) {
      fail(
        'paidInAdvance',
        'document.paid-in-advance.after-issue',
        'The payment is marked as made in advance but its date is after the issue date.',
        'Remove paidInAdvance, or correct the payment date.',
      );
    }
  }

  const patient = checkPatient(input.patient, taxCodeForm, fail);

  const documentType = input.documentType;
  if (documentType === undefined) {
    if (rules.documentTypeRequired) {
      fail(
        'documentType',
        'document.document-type.missing',
        'The document type is required for expenses from 2021.',
        'Set documentType to "invoice" (fattura) or "receipt" (documento commerciale).',
      );
    }
  } else if (documentType !== 'invoice' && documentType !== 'receipt') {
    fail(
      'documentType',
      'document.document-type.unknown',
      'The document type is not known.',
      'Use "invoice" (fattura) or "receipt" (documento commerciale).',
    );
  }

  const lines: ExpenseLine[] = [];
  if (!Array.isArray(input.lines) || input.lines.length === 0) {
    fail(
      'lines',
      'document.lines.missing',
      'A document needs at least one expense line.',
      'Add one line per expense type with its amount.',
    );
  } else {
    input.lines.forEach((line, index) => {
      const checked = checkLine(line, `lines[${index}]`, documentType, rules, fail);
      if (checked) lines.push(checked);
    });
  }

  const traceablePayment = input.traceablePayment;
  if (traceablePayment === undefined) {
    const needsTraceability =
      !rules.traceablePaymentExempt &&
      isCalendarDate(paymentDate) &&
      paymentDate >= TRACEABLE_PAYMENT_REQUIRED_FROM &&
      Array.isArray(input.lines) &&
      input.lines.some(
        (line) => !(isRecord(line) && TRACEABLE_PAYMENT_OPTIONAL_TYPES.has(line.expenseType as ExpenseType)),
      );
    if (needsTraceability) {
      fail(
        'traceablePayment',
        'document.traceable-payment.missing',
        'Whether the payment was traceable is required, except when every line is TK, FC, AD or FV.',
        'Set traceablePayment to true (card, transfer, …) or false (cash).',
      );
    }
  } else if (typeof traceablePayment !== 'boolean') {
    fail(
      'traceablePayment',
      'document.traceable-payment.type',
      'traceablePayment must be true or false.',
      'Send a boolean.',
    );
  }

  if (!ok || !id || !patient) return undefined;
  return {
    id,
    operation,
    ...(refundedDocumentId ? { refundedDocumentId } : {}),
    paymentDate: paymentDate as string,
    ...(paidInAdvance === true ? { paidInAdvance: true } : {}),
    patient,
    ...(typeof traceablePayment === 'boolean' ? { traceablePayment } : {}),
    ...(documentType !== undefined ? { documentType: documentType as DocumentType } : {}),
    lines,
  };
}

function checkPatient<T>(value: unknown, form: TaxCodeForm<T>, add: Add): Patient<T> | undefined {
  if (!isRecord(value) || (value.kind !== 'identified' && value.kind !== 'opposed')) {
    add(
      'patient.kind',
      'document.patient.kind',
      'The patient must be either identified by codice fiscale or opposed to the transmission.',
      'Set patient.kind to "identified" with the codice fiscale, or "opposed" without it.',
    );
    return undefined;
  }
  if (value.kind === 'opposed') {
    if (value.taxCode !== undefined) {
      add(
        'patient.taxCode',
        'document.patient.opposed-with-tax-code',
        'When the patient opposes the transmission, the codice fiscale must not be sent.',
        'Remove the codice fiscale, or set patient.kind to "identified" if the patient does not oppose.',
      );
      return undefined;
    }
    return { kind: 'opposed' };
  }
  if (value.taxCode === undefined) {
    add(
      'patient.taxCode',
      'document.patient.tax-code-missing',
      'The codice fiscale of the patient is missing.',
      'Give the codice fiscale from the health card, or set patient.kind to "opposed".',
    );
    return undefined;
  }
  const taxCode = form.check(value.taxCode, 'patient.taxCode', 'document', 'patient', add, false);
  return taxCode === undefined ? undefined : { kind: 'identified', taxCode };
}

function checkSender<T>(input: unknown, form: TaxCodeForm<T>, add: Add): Sender<T> | undefined {
  if (!isRecord(input) || (input.kind !== 'professional' && input.kind !== 'structure')) {
    add(
      'sender.kind',
      'sender.kind',
      'The sender must be a professional or a structure.',
      'Set sender.kind to "professional" (own codice fiscale) or "structure" (region, ASL and SSA codes).',
    );
    return undefined;
  }
  let ok = true;
  if (input.kind === 'professional') {
    if (input.taxCode === undefined) {
      add(
        'sender.taxCode',
        'sender.tax-code.missing',
        'A professional sender is identified by their codice fiscale.',
        'Give the codice fiscale of the professional who issues the documents.',
      );
      return undefined;
    }
    const taxCode = form.check(input.taxCode, 'sender.taxCode', 'sender', 'sender', add, false);
    return taxCode === undefined ? undefined : { kind: 'professional', taxCode };
  }
  const codes: [keyof typeof input & string, RegExp, string, string][] = [
    ['regionCode', REGION_OR_ASL_CODE, 'region-code', 'The region code must be 3 characters A–Z or 0–9.'],
    ['aslCode', REGION_OR_ASL_CODE, 'asl-code', 'The ASL code must be 3 characters A–Z or 0–9.'],
    ['ssaCode', SSA_CODE, 'ssa-code', 'The SSA code must be 5 or 6 characters A–Z or 0–9.'],
  ];
  for (const [field, pattern, code, message] of codes) {
    const value = input[field];
    if (typeof value !== 'string' || !pattern.test(value)) {
      ok = false;
      add(
        `sender.${field}`,
        `sender.${code}.format`,
        message,
        'Copy it exactly as in the letter that assigned the STS credentials (the "codice ufficio" region-ASL-SSA).',
      );
    }
  }
  let taxCode: T | undefined;
  if (input.taxCode !== undefined) {
    taxCode = form.check(input.taxCode, 'sender.taxCode', 'sender', 'sender', add, true);
    if (taxCode === undefined) ok = false;
  }
  if (!ok) return undefined;
  return {
    kind: 'structure',
    regionCode: input.regionCode as string,
    aslCode: input.aslCode as string,
    ssaCode: input.ssaCode as string,
    ...(taxCode !== undefined ? { taxCode } : {}),
  };
}

const run = <T>(check: (add: Add) => T | undefined): Validation<T> => {
  const violations: DocumentViolation[] = [];
  const value = check((path, code, message, hint) => violations.push({ path, code, message, hint }));
  if (violations.length > 0 || value === undefined) return { ok: false, violations };
  return { ok: true, value };
};

/**
 * Validates a document as it arrives (patient codice fiscale in clear). On success returns the
 * normalised document: upper-case identifiers, amounts and VAT rates with exactly two decimals,
 * optional fields present only when meaningful.
 */
export function validateExpenseDocument(
  document: PlainExpenseDocument,
  rules?: DocumentRules,
): Validation<PlainExpenseDocument> {
  const resolved = resolveRules(rules);
  return run((add) => checkDocument(document, resolved, plainTaxCode(resolved), add));
}

/** Validates a sender with its codice fiscale in clear (paths start with `sender.`). */
export function validateSender(sender: Sender, rules?: DocumentRules): Validation<Sender> {
  const resolved = resolveRules(rules);
  return run((add) => checkSender(sender, plainTaxCode(resolved), add));
}

/** A document and the sender it will be sent for, both in clear: all violations of both. */
export function validateDocument(
  input: { document: PlainExpenseDocument; sender: Sender },
  rules?: DocumentRules,
): Validation<{ document: PlainExpenseDocument; sender: Sender }> {
  const resolved = resolveRules(rules);
  const form = plainTaxCode(resolved);
  return run((add) => {
    const sender = checkSender(input.sender, form, add);
    const document = checkDocument(input.document, resolved, form, add);
    return sender && document ? { document, sender } : undefined;
  });
}

/**
 * The same checks for a document whose patient codice fiscale is already encrypted: what builders
 * run before writing anything, so an invalid document never reaches a file or a request.
 */
export function validateEncryptedDocument(
  document: ExpenseDocument,
  rules?: DocumentRules,
): Validation<ExpenseDocument> {
  return run((add) => checkDocument(document, resolveRules(rules), encryptedTaxCode, add));
}

/** Only a document identifier (what a cancellation sends); paths start with `id.`. */
export function validateDocumentId(id: DocumentId, rules?: DocumentRules): Validation<DocumentId> {
  return run((add) => checkDocumentId(id, 'id', resolveRules(rules), add));
}

/** A sender whose codice fiscale is already encrypted (as inside a 730 file). */
export function validateEncryptedSender(
  sender: Sender<EncryptedTaxCode>,
): Validation<Sender<EncryptedTaxCode>> {
  return run((add) => checkSender(sender, encryptedTaxCode, add));
}

/** Thrown by builders given a document that does not validate; carries the violations, never values. */
export class InvalidDocumentError extends Error {
  readonly violations: DocumentViolation[];
  constructor(what: string, violations: DocumentViolation[]) {
    super(`${what} is not valid: ${violations.map((v) => `${v.path || '(document)'} ${v.code}`).join('; ')}`);
    this.name = 'InvalidDocumentError';
    this.violations = violations;
  }
}
