import type {
  DocumentId,
  EncryptedTaxCode,
  ExpenseDocument,
  ExpenseLine,
  Sender,
} from './expense-document.ts';
import {
  DOCUMENT_TYPE_CODES,
  EXPENSE_TYPE_FLAG_CODES,
  OPPOSITION_CODES,
  TRACEABLE_PAYMENT_CODES,
  XML,
} from './xml-names.ts';
import { element } from './xml-text.ts';

/**
 * The pieces of `documentoSpesa` common to the batch file and the single-document service. `q`
 * turns a local name into the written one (`doc:idSpesa` in the namespaced service, `idSpesa` in
 * the file). Values are written as validated: amounts and rates already carry two decimals.
 */
export type QualifyName = (localName: string) => string;

export const unqualified: QualifyName = (name) => name;

const wrap = (q: QualifyName, name: string, content: string): string => `<${q(name)}>${content}</${q(name)}>`;
const leaf = (q: QualifyName, name: string, text: string): string => element(q(name), text);

/** The content of an `idDocumentoFiscale` (pIva, dataEmissione, numDocumentoFiscale). */
export function documentIdContent(id: DocumentId, q: QualifyName): string {
  return (
    leaf(q, XML.vatNumber, id.vatNumber) +
    leaf(q, XML.issueDate, id.issueDate) +
    wrap(q, XML.numberGroup, leaf(q, XML.device, String(id.device)) + leaf(q, XML.number, id.number))
  );
}

export function documentIdElement(name: string, id: DocumentId, q: QualifyName): string {
  return wrap(q, name, documentIdContent(id, q));
}

export function lineElement(line: ExpenseLine, q: QualifyName): string {
  let content = leaf(q, XML.expenseType, line.expenseType);
  if (line.expenseTypeFlag)
    content += leaf(q, XML.expenseTypeFlag, EXPENSE_TYPE_FLAG_CODES[line.expenseTypeFlag]);
  content += leaf(q, XML.amount, line.amount);
  if (line.vatRate !== undefined) content += leaf(q, XML.vatRate, line.vatRate);
  else if (line.vatNature !== undefined) content += leaf(q, XML.vatNature, line.vatNature);
  return wrap(q, XML.line, content);
}

/** `cfCittadino` when identified; nothing when the patient opposes (spec: must be absent). */
export function patientTaxCodeElement(document: ExpenseDocument, q: QualifyName): string {
  return document.patient.kind === 'identified'
    ? leaf(q, XML.patientTaxCode, document.patient.taxCode.encrypted)
    : '';
}

export function traceablePaymentElement(document: ExpenseDocument, q: QualifyName): string {
  if (document.traceablePayment === undefined) return '';
  const code = document.traceablePayment
    ? TRACEABLE_PAYMENT_CODES.traceable
    : TRACEABLE_PAYMENT_CODES.notTraceable;
  return leaf(q, XML.traceablePayment, code);
}

export function documentTypeElement(document: ExpenseDocument, q: QualifyName): string {
  return document.documentType ? leaf(q, XML.documentType, DOCUMENT_TYPE_CODES[document.documentType]) : '';
}

/**
 * Always written, `0` or `1`, as in every official example and kit SoapUI sample with the 2021 fields
 * (absent and `0` mean the same to the STS).
 */
export function oppositionElement(document: ExpenseDocument, q: QualifyName): string {
  const code = document.patient.kind === 'opposed' ? OPPOSITION_CODES.opposed : OPPOSITION_CODES.notOpposed;
  return leaf(q, XML.opposition, code);
}

/** The content of `proprietario`/`Proprietario`: region, ASL, SSA codes for structures, then the encrypted CF. */
export function ownerContent(sender: Sender<EncryptedTaxCode>, q: QualifyName): string {
  let content = '';
  if (sender.kind === 'structure') {
    content +=
      leaf(q, XML.regionCode, sender.regionCode) +
      leaf(q, XML.aslCode, sender.aslCode) +
      leaf(q, XML.ssaCode, sender.ssaCode);
  }
  if (sender.taxCode) content += leaf(q, XML.ownerTaxCode, sender.taxCode.encrypted);
  return content;
}
