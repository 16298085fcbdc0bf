import type {
  DocumentId,
  EncryptedTaxCode,
  ExpenseDocument,
  ExpenseLine,
  ExpenseType,
  Operation,
} from '@sts/sts';
import { FIELD } from '../protocol/field-names.ts';
import { childElement, childElements, childText, type XmlElement } from '../soap/xml-tree.ts';

/**
 * Reads the single-document and query schemas' `idDocumentoFiscale` and `documentoSpesa`
 * (DocumentoSpesa730pSchema.xsd, all elements qualified) into the @sts/sts model, so both paths share
 * one set of business rules. The request was validated against the XSD before, so shapes are right;
 * values are normalised as the XSD's types allow (`dispositivo` 001 is 1, `importo` is an xs:double:
 * 25.3 is 25.30). Malformed patient combinations are passed through for the validator to name.
 */

export function readDocumentId(element: XmlElement, ns: string): DocumentId {
  const numbers = childElement(element, FIELD.numberGroup, ns);
  return {
    vatNumber: (childText(element, FIELD.vatNumber, ns) ?? '').replace(/^\+/, ''),
    issueDate: childText(element, FIELD.issueDate, ns) ?? '',
    device: Number(numbers ? childText(numbers, FIELD.device, ns) : Number.NaN),
    number: numbers ? (childText(numbers, FIELD.number, ns) ?? '') : '',
  };
}

/** An xs:double amount as a decimal string: two decimals when it has at most two, as written otherwise. */
export function doubleToAmount(text: string): string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  const cents = Math.round(value * 100);
  if (Math.abs(value * 100 - cents) > 1e-6) return String(value);
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

const EXPENSE_TYPE_FLAGS = { '1': 'emergency-ticket', '2': 'intramoenia' } as const;

function readLine(element: XmlElement, ns: string): ExpenseLine {
  const flag = childText(element, FIELD.expenseTypeFlag, ns);
  const rate = childText(element, FIELD.vatRate, ns);
  const nature = childText(element, FIELD.vatNature, ns);
  return {
    expenseType: (childText(element, FIELD.expenseType, ns) ?? '') as ExpenseType,
    ...(flag ? { expenseTypeFlag: EXPENSE_TYPE_FLAGS[flag as '1' | '2'] } : {}),
    amount: doubleToAmount(childText(element, FIELD.amount, ns) ?? ''),
    ...(rate !== undefined ? { vatRate: rate } : {}),
    ...(nature !== undefined ? { vatNature: nature } : {}),
  };
}

export function readSyncDocument(
  element: XmlElement,
  ns: string,
  operation: Operation,
  refundedDocumentId?: DocumentId,
): ExpenseDocument {
  const idElement = childElement(element, FIELD.id, ns);
  const patientCiphertext = childText(element, FIELD.patientTaxCode, ns);
  const opposed = childText(element, FIELD.opposition, ns) === '1';
  const traceable = childText(element, FIELD.traceablePayment, ns);
  const documentType = childText(element, FIELD.documentType, ns);
  const taxCode: EncryptedTaxCode | undefined =
    patientCiphertext === undefined ? undefined : { encrypted: patientCiphertext };
  // The model cannot hold "opposed with a codice fiscale" or "identified without one"; the validator
  // reports both, so they are passed as they came.
  const patient = (
    opposed ? { kind: 'opposed', taxCode } : { kind: 'identified', taxCode }
  ) as ExpenseDocument['patient'];
  return {
    id: idElement
      ? readDocumentId(idElement, ns)
      : { vatNumber: '', issueDate: '', device: Number.NaN, number: '' },
    operation,
    ...(refundedDocumentId ? { refundedDocumentId } : {}),
    paymentDate: childText(element, FIELD.paymentDate, ns) ?? '',
    ...(childText(element, FIELD.paidInAdvance, ns) === '1' ? { paidInAdvance: true } : {}),
    patient,
    ...(traceable !== undefined ? { traceablePayment: traceable === 'SI' } : {}),
    ...(documentType === 'F'
      ? { documentType: 'invoice' }
      : documentType === 'D'
        ? { documentType: 'receipt' }
        : {}),
    lines: childElements(element, FIELD.line, ns).map((line) => readLine(line, ns)),
  };
}

/** A cancellation carries only the document id; the rest of the model is filled with neutral values. */
export function cancellationOf(id: DocumentId): ExpenseDocument {
  return { id, operation: 'cancel', paymentDate: id.issueDate, patient: { kind: 'opposed' }, lines: [] };
}
