import type {
  DocumentId,
  DocumentType,
  EncryptedTaxCode,
  ExpenseDocument,
  PlainExpenseDocument,
  Sender,
} from './expense-document.ts';
import { checkDateRules, checkIdDateRules, type DateFindings } from './validation/date-rules.ts';
import { checkDocumentId } from './validation/document-id-checks.ts';
import { checkLines } from './validation/expense-line-checks.ts';
import { checkDocumentType, checkOperation, checkRefundedDocumentId } from './validation/operation-checks.ts';
import { checkPatient } from './validation/patient-checks.ts';
import { checkPaymentDate, checkTraceablePayment } from './validation/payment-checks.ts';
import { checkSender } from './validation/sender-checks.ts';
import { encryptedTaxCode, plainTaxCode, type TaxCodeForm } from './validation/tax-code-forms.ts';
import {
  type Add,
  type DocumentRules,
  isRecord,
  type ResolvedRules,
  resolveRules,
} from './validation/validation-support.ts';

/**
 * Validation of a document and its sender against everything the STS checks that we can check
 * locally: every facet of `730_precompilata.xsd` and `DocumentoSpesa730pSchema.xsd` (the stricter
 * of the two where they differ) and the business rules of the async spec v2.5 (docs/protocol.md
 * §3.2). All violations are returned, never only the first. Messages never contain the values.
 *
 * One file per section of the document in `validation/`: sender, document identifier, operation
 * (and refunded document, document type), payment, patient, expense lines and VAT; and the date
 * rules (`validation/date-rules.ts`: future dates, closed and late tax years by the STS calendar),
 * which run only when `DocumentRules.today` is given.
 */

export {
  type DateFindings,
  type DocumentNotice,
  FUTURE_DATE_CODE,
} from './validation/date-rules.ts';

export { ISSUE_DATE_MIN } from './validation/document-id-checks.ts';
export { AMOUNT_MAX, RECEIPT_VAT_NATURES, VAT_NATURES } from './validation/expense-line-checks.ts';
export {
  PAYMENT_DATE_MIN,
  TRACEABLE_PAYMENT_OPTIONAL_TYPES,
  TRACEABLE_PAYMENT_REQUIRED_FROM,
} from './validation/payment-checks.ts';
export { type DocumentRules, isCalendarDate } from './validation/validation-support.ts';

export interface DocumentViolation {
  /** Where, in our English model: `lines[2].vatNature`, `id.issueDate`, `sender.taxCode`. */
  path: string;
  /** Stable, e.g. `document.vat-nature.receipt`. */
  code: string;
  /** What is wrong (never the value itself). */
  message: string;
  /** What the user should do about it. */
  hint: string;
  /**
   * The message code the STS answers for the same problem (`S035`), or our own code for a rule of
   * ours (`S909`, see the error catalogue); set by the date rules only.
   */
  stsCode?: string;
}

/**
 * With `DocumentRules.today`, both outcomes may also carry `deadline` (what the STS calendar says
 * about the operation today) and `notices` (e.g. `document.payment-date.late`: accepted, but late).
 */
export type Validation<T> =
  | ({ ok: true; value: T } & DateFindings)
  | ({ ok: false; violations: DocumentViolation[] } & DateFindings);

/** The whole document, its sections in the order their violations are listed. */
function checkDocument<T>(
  input: unknown,
  rules: ResolvedRules,
  taxCodeForm: TaxCodeForm<T>,
  add: Add,
  found: DateFindings,
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

  const operation = checkOperation(input.operation, fail);
  const id = checkDocumentId(input.id, 'id', rules, fail);
  const refundedDocumentId = checkRefundedDocumentId(input.refundedDocumentId, operation, rules, fail);
  checkPaymentDate(input, operation, id, fail);
  checkDateRules(input, operation, { id, refundedDocumentId }, rules, fail, found);
  const patient = checkPatient(input.patient, taxCodeForm, fail);
  const documentType = input.documentType;
  checkDocumentType(documentType, rules, fail);
  const lines = checkLines(input.lines, documentType, rules, fail);
  checkTraceablePayment(input, rules, fail);

  if (!ok || !id || !patient) return undefined;
  const { paymentDate, paidInAdvance, traceablePayment } = input;
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

const run = <T>(check: (add: Add, found: DateFindings) => T | undefined): Validation<T> => {
  const violations: DocumentViolation[] = [];
  const found: DateFindings = {};
  const value = check(
    (path, code, message, hint, stsCode) =>
      violations.push({ path, code, message, hint, ...(stsCode ? { stsCode } : {}) }),
    found,
  );
  if (violations.length > 0 || value === undefined) return { ok: false, violations, ...found };
  return { ok: true, value, ...found };
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
  return run((add, found) => checkDocument(document, resolved, plainTaxCode(resolved), add, found));
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
  return run((add, found) => {
    const sender = checkSender(input.sender, form, add);
    const document = checkDocument(input.document, resolved, form, add, found);
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
  return run((add, found) => checkDocument(document, resolveRules(rules), encryptedTaxCode, add, found));
}

/**
 * Only a document identifier (what a cancellation sends); paths start with `id.`. With `today`, an
 * issue date after today is refused too (the calendar needs the payment date, which the id lacks).
 */
export function validateDocumentId(id: DocumentId, rules?: DocumentRules): Validation<DocumentId> {
  const resolved = resolveRules(rules);
  return run((add) => {
    const checked = checkDocumentId(id, 'id', resolved, add);
    checkIdDateRules(checked, 'id', resolved, add);
    return checked;
  });
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
