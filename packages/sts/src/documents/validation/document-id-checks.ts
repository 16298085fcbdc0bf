import { checkVatNumber } from '@sts/shared/identifiers';
import type { DocumentId } from '../expense-document.ts';
import { type Add, isCalendarDate, isRecord, type ResolvedRules } from './validation-support.ts';

export const ISSUE_DATE_MIN = '2014-01-01';

const DOCUMENT_NUMBER_CHARS = /^[A-Za-z0-9_./\\-]*$/;

/**
 * The identifier of a fiscal document (partita IVA of the issuer, issue date, device, number): of
 * the document itself, of the one a refund refunds, or alone for a cancellation.
 */
export function checkDocumentId(
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
