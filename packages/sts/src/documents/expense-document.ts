/**
 * The healthcare expense document, in our own (English) terms. The official Italian element names
 * appear only in the XML mapping (`documents/xml-names.ts`); everything else speaks this model.
 *
 * Values are kept exactly as the STS wants them: dates as civil `YYYY-MM-DD` strings (Europe/Rome),
 * amounts and VAT rates as decimal strings (never binary floats), identifiers upper-case.
 */

export const EXPENSE_TYPES = [
  'TK',
  'FC',
  'FV',
  'AS',
  'AD',
  'SR',
  'CT',
  'PI',
  'IC',
  'AA',
  'SV',
  'SP',
] as const;
/** The official expense-type codes (`tipoSpesa`); see `expenseTypeInfo` for what each means. */
export type ExpenseType = (typeof EXPENSE_TYPES)[number];

export const OPERATIONS = ['insert', 'update', 'refund', 'cancel'] as const;
/** What the record does to the STS archive: `I`, `V`, `R`, `C` (`flagOperazione`). */
export type Operation = (typeof OPERATIONS)[number];

export const DOCUMENT_TYPES = ['invoice', 'receipt'] as const;
/** `F` fattura or `D` documento commerciale (`tipoDocumento`). */
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const EXPENSE_TYPE_FLAGS = ['emergency-ticket', 'intramoenia'] as const;
/** `flagTipoSpesa`: `1` pronto soccorso ticket (only with TK), `2` intramoenia visit (only with SR). */
export type ExpenseTypeFlag = (typeof EXPENSE_TYPE_FLAGS)[number];

/** Identifies a fiscal document: issuer VAT number, issue date, device (cash register, 1 for invoices), number. */
export interface DocumentId {
  /** Partita IVA of the issuer, 11 digits. */
  vatNumber: string;
  /** `YYYY-MM-DD`, on or after 2014-01-01. */
  issueDate: string;
  /** 1..999; 1 for invoices and receipts without a register. */
  device: number;
  /** 1–20 characters of `A-Z a-z 0-9 _ . / \ -`. */
  number: string;
}

/**
 * Who the data belongs to (`proprietario`). Professionals are identified by their own codice
 * fiscale; structures by region, ASL and SSA codes "as in the credentials letter", plus the codice
 * fiscale of the owner (absent only when the sender is a Region).
 *
 * `T` is the form of the owner's codice fiscale: plaintext at the edge, `EncryptedTaxCode` inside a
 * 730 file (where `cfProprietario` is encrypted) and as parsed back from one.
 */
export type Sender<T = string> =
  | { kind: 'professional'; taxCode: T }
  | { kind: 'structure'; regionCode: string; aslCode: string; ssaCode: string; taxCode?: T };

/** One expense line (`voceSpesa`). Exactly one of `vatRate` and `vatNature` (the XSD allows neither, the spec wants one). */
export interface ExpenseLine {
  expenseType: ExpenseType;
  expenseTypeFlag?: ExpenseTypeFlag;
  /** Decimal string, positive (refunds too), at most 99999.99, e.g. `"52.01"`. */
  amount: string;
  /** Decimal string, 0–100 with two decimals in the file, e.g. `"10.00"`. */
  vatRate?: string;
  /** FatturaPA nature code: N1–N6 for receipts; N1–N7 or sub-codes such as `N2.1` for invoices. */
  vatNature?: string;
}

/**
 * The patient, as the document carries them: either their codice fiscale (`cfCittadino`), or their
 * opposition to the STS using the document for the pre-filled return (`flagOpposizione = 1`), in which
 * case the codice fiscale must not be sent at all.
 *
 * `T` is the form of the codice fiscale: plaintext while validating at the edge, the SanitelCF
 * ciphertext (`EncryptedTaxCode`) from there on. Builders only accept the encrypted form.
 */
export type Patient<T = EncryptedTaxCode> = { kind: 'identified'; taxCode: T } | { kind: 'opposed' };

/** A codice fiscale encrypted with the SanitelCF certificate: base64 of the RSA ciphertext, one line. */
export interface EncryptedTaxCode {
  readonly encrypted: string;
}

export interface ExpenseDocument<T = EncryptedTaxCode> {
  id: DocumentId;
  operation: Operation;
  /** The original document a refund refunds (`idRimborso`); present exactly when `operation` is `refund`. */
  refundedDocumentId?: DocumentId;
  /** `YYYY-MM-DD`; decides the tax year. */
  paymentDate: string;
  /** The citizen paid before the document was issued (`flagPagamentoAnticipato = 1`). */
  paidInAdvance?: boolean;
  patient: Patient<T>;
  /** Paid by traceable means (`pagamentoTracciato` SI/NO); required except for TK, FC, AD, FV expenses. */
  traceablePayment?: boolean;
  documentType?: DocumentType;
  lines: ExpenseLine[];
}

/** A document as it arrives from a clinic system: the patient's codice fiscale still in clear. */
export type PlainExpenseDocument = ExpenseDocument<string>;
