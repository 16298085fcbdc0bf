import { type DocumentId, OPERATIONS, type Operation } from '../expense-document.ts';
import { checkDocumentId } from './document-id-checks.ts';
import type { Add, ResolvedRules } from './validation-support.ts';

/** What the sending does with the document: insert, update, refund … */
export function checkOperation(value: unknown, add: Add): Operation {
  const operation = value as Operation;
  if (!OPERATIONS.includes(operation)) {
    add(
      'operation',
      'document.operation.unknown',
      'The operation is not known.',
      `Use one of ${OPERATIONS.join(', ')}.`,
    );
  }
  return operation;
}

/** A refund names the document it refunds; no other operation names one. */
export function checkRefundedDocumentId(
  value: unknown,
  operation: Operation,
  rules: ResolvedRules,
  add: Add,
): DocumentId | undefined {
  let refundedDocumentId: DocumentId | undefined;
  if (operation === 'refund') {
    if (value === undefined) {
      add(
        'refundedDocumentId',
        'document.refunded-id.missing',
        'A refund must name the original document it refunds.',
        'Give the VAT number, issue date, device and number of the refunded document.',
      );
    } else {
      refundedDocumentId = checkDocumentId(value, 'refundedDocumentId', rules, add);
    }
  } else if (value !== undefined) {
    add(
      'refundedDocumentId',
      'document.refunded-id.unexpected',
      'Only refunds name a refunded document.',
      'Remove refundedDocumentId, or set the operation to refund.',
    );
  }
  return refundedDocumentId;
}

/** Invoice (fattura) or receipt (documento commerciale): required for expenses from 2021. */
export function checkDocumentType(value: unknown, rules: ResolvedRules, add: Add): void {
  if (value === undefined) {
    if (rules.documentTypeRequired) {
      add(
        'documentType',
        'document.document-type.missing',
        'The document type is required for expenses from 2021.',
        'Set documentType to "invoice" (fattura) or "receipt" (documento commerciale).',
      );
    }
  } else if (value !== 'invoice' && value !== 'receipt') {
    add(
      'documentType',
      'document.document-type.unknown',
      'The document type is not known.',
      'Use "invoice" (fattura) or "receipt" (documento commerciale).',
    );
  }
}
