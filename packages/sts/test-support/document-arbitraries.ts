import fc from 'fast-check';
import { formatHundredths } from '../src/documents/decimal-amount.ts';
import {
  DOCUMENT_TYPES,
  type DocumentId,
  type EncryptedTaxCode,
  EXPENSE_TYPES,
  type ExpenseDocument,
  type ExpenseLine,
  type ExpenseType,
  OPERATIONS,
  type Patient,
  type PlainExpenseDocument,
  type Sender,
} from '../src/documents/expense-document.ts';
import {
  RECEIPT_VAT_NATURES,
  TRACEABLE_PAYMENT_OPTIONAL_TYPES,
  TRACEABLE_PAYMENT_REQUIRED_FROM,
  VAT_NATURES,
} from '../src/documents/validate-document.ts';
import { personTaxCodeArb, vatNumberArb } from './identifier-arbitraries.ts';

/**
 * Generators of documents that are valid under the default rules, in canonical (normalised) form,
 * so that `validate(x).value` deep-equals `x` and `parse(build(x))` must give `x` back.
 */

const DAY_MS = 86_400_000;
const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const isoDate = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const FIRST_PAYMENT_DAY = dayNumber('2015-01-01');
const FIRST_ISSUE_DAY = dayNumber('2014-01-01');
const LAST_DAY = dayNumber('2030-12-31');

/** `A-Z a-z 0-9 _ . / \ -`: every character `numDocumento` allows, the XML-special-looking ones included. */
const NUMBER_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./\\-';

export const documentNumberArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NUMBER_CHARS), minLength: 1, maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...NUMBER_CHARS), minLength: 20, maxLength: 20 }),
  fc.integer({ min: 1, max: 9_999_999 }).map(String),
);

export const documentIdArb = (issueDate: fc.Arbitrary<string>): fc.Arbitrary<DocumentId> =>
  fc.record(
    {
      vatNumber: vatNumberArb,
      issueDate,
      device: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 999 }), fc.constant(999)),
      number: documentNumberArb,
    },
    { noNullPrototype: true },
  );

/** Amounts in hundredths, biased to the edges (0.01, 99999.99) and typical values. */
const hundredthsArb = fc.oneof(
  fc.integer({ min: 1, max: 9_999_999 }),
  fc.integer({ min: 1, max: 50_000 }),
  fc.constantFrom(1, 10, 100, 9_999_999, 9_999_900),
);

const vatArb = (documentType: ExpenseDocument['documentType']) =>
  fc.oneof(
    fc
      .oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 400, 500, 1000, 2200, 10_000))
      .map((rate) => ({ vatRate: formatHundredths(rate) })),
    fc
      .constantFrom(...(documentType === 'receipt' ? RECEIPT_VAT_NATURES : VAT_NATURES))
      .map((vatNature) => ({ vatNature })),
  );

export const lineArb = (documentType: ExpenseDocument['documentType']): fc.Arbitrary<ExpenseLine> =>
  fc
    .record({
      expenseType: fc.constantFrom(...EXPENSE_TYPES),
      flagged: fc.boolean(),
      hundredths: hundredthsArb,
      vat: vatArb(documentType),
    })
    .map(({ expenseType, flagged, hundredths, vat }) => ({
      expenseType,
      ...(flagged && expenseType === 'TK' ? { expenseTypeFlag: 'emergency-ticket' as const } : {}),
      ...(flagged && expenseType === 'SR' ? { expenseTypeFlag: 'intramoenia' as const } : {}),
      amount: formatHundredths(hundredths),
      ...vat,
    }));

/** Everything a document has but the patient, which comes in clear or encrypted. */
const documentShapeArb = fc
  .record({
    operation: fc.constantFrom(...OPERATIONS),
    paymentDay: fc.integer({ min: FIRST_PAYMENT_DAY, max: LAST_DAY }),
    advance: fc.boolean(),
    offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })),
    documentType: fc.constantFrom(...DOCUMENT_TYPES),
    traceable: fc.option(fc.boolean(), { nil: undefined }),
  })
  .chain(({ operation, paymentDay, advance, offset, documentType, traceable }) => {
    // Refunds are paid on their issue day; otherwise the payment follows the issue unless paid in advance.
    const issueDay =
      operation === 'refund'
        ? paymentDay
        : advance
          ? Math.min(paymentDay + offset, LAST_DAY)
          : Math.max(paymentDay - offset, FIRST_ISSUE_DAY);
    const issueDate = isoDate(issueDay);
    return fc.record({
      id: documentIdArb(fc.constant(issueDate)),
      refundedDocumentId:
        operation === 'refund'
          ? documentIdArb(fc.integer({ min: FIRST_ISSUE_DAY, max: issueDay }).map(isoDate))
          : fc.constant(undefined),
      operation: fc.constant(operation),
      paymentDate: fc.constant(isoDate(paymentDay)),
      paidInAdvance: fc.constant(advance && (operation !== 'refund' || offset === 0)),
      documentType: fc.constant(documentType),
      traceable: fc.constant(traceable),
      lines: fc.array(lineArb(documentType), { minLength: 1, maxLength: 4 }),
    });
  })
  .map(({ refundedDocumentId, paidInAdvance, traceable, ...rest }) => {
    const needsTraceability =
      rest.paymentDate >= TRACEABLE_PAYMENT_REQUIRED_FROM &&
      rest.lines.some((line) => !TRACEABLE_PAYMENT_OPTIONAL_TYPES.has(line.expenseType as ExpenseType));
    const traceablePayment = traceable ?? (needsTraceability ? true : undefined);
    return {
      id: rest.id,
      operation: rest.operation,
      ...(refundedDocumentId ? { refundedDocumentId } : {}),
      paymentDate: rest.paymentDate,
      ...(paidInAdvance ? { paidInAdvance: true } : {}),
      ...(traceablePayment !== undefined ? { traceablePayment } : {}),
      documentType: rest.documentType,
      lines: rest.lines,
    };
  });

const withPatient = <T>(
  shape: fc.Arbitrary<Omit<ExpenseDocument<T>, 'patient'>>,
  patient: fc.Arbitrary<Patient<T>>,
) =>
  fc.tuple(shape, patient).map(([document, patientValue]) => {
    // Keep the model's key order: id, operation, refundedDocumentId?, paymentDate, paidInAdvance?, patient, …
    const { id, operation, refundedDocumentId, paymentDate, paidInAdvance, ...rest } = document;
    return {
      id,
      operation,
      ...(refundedDocumentId ? { refundedDocumentId } : {}),
      paymentDate,
      ...(paidInAdvance ? { paidInAdvance } : {}),
      patient: patientValue,
      ...rest,
    } as ExpenseDocument<T>;
  });

export const plainPatientArb: fc.Arbitrary<Patient<string>> = fc.oneof(
  { weight: 4, arbitrary: personTaxCodeArb().map((taxCode) => ({ kind: 'identified' as const, taxCode })) },
  {
    weight: 1,
    arbitrary: personTaxCodeArb({ omocodic: true }).map((taxCode) => ({
      kind: 'identified' as const,
      taxCode,
    })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'opposed' as const }) },
);

/** A valid document with the patient's codice fiscale in clear. */
export const plainDocumentArb: fc.Arbitrary<PlainExpenseDocument> = withPatient<string>(
  documentShapeArb,
  plainPatientArb,
);

/**
 * A valid document with the patient encrypted: `encryptedPatient` picks the ciphertext (e.g. a real
 * encryption of a generated codice fiscale, or one from a pool).
 */
export const encryptedDocumentArb = (
  encryptedTaxCode: fc.Arbitrary<EncryptedTaxCode>,
): fc.Arbitrary<ExpenseDocument> =>
  withPatient<EncryptedTaxCode>(
    documentShapeArb,
    fc.oneof(
      { weight: 5, arbitrary: encryptedTaxCode.map((taxCode) => ({ kind: 'identified' as const, taxCode })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'opposed' as const }) },
    ),
  );

const codeChars = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    minLength: min,
    maxLength: max,
  });

/** A valid sender in clear: a professional, or a structure with or without its codice fiscale. */
export const plainSenderArb: fc.Arbitrary<Sender> = fc.oneof(
  personTaxCodeArb().map((taxCode) => ({ kind: 'professional' as const, taxCode })),
  fc
    .record({
      regionCode: codeChars(3, 3),
      aslCode: codeChars(3, 3),
      ssaCode: codeChars(5, 6),
      taxCode: fc.option(fc.oneof(personTaxCodeArb(), vatNumberArb), { nil: undefined }),
    })
    .map(({ taxCode, ...codes }) => ({
      kind: 'structure' as const,
      ...codes,
      ...(taxCode ? { taxCode } : {}),
    })),
);
