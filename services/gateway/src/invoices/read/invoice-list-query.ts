import {
  checkTaxCode,
  checkVatNumber,
  DOCUMENT_STATUSES,
  type DocumentStatus,
  type FieldProblem,
  invalidRequest,
} from '@sts/shared';
import { z } from 'zod';

export const INVOICE_OPERATIONS = ['insert', 'update', 'refund', 'cancel'] as const;
export type InvoiceOperation = (typeof INVOICE_OPERATIONS)[number];

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** Where a page ends: the last item's `received_at` (microseconds, UTC) and id. */
export interface ListCursor {
  receivedAt: string;
  id: string;
}

export interface InvoiceListQuery {
  statuses?: DocumentStatus[];
  credentialId?: string;
  /** Inclusive. */
  receivedFrom?: Date;
  /** Exclusive. */
  receivedTo?: Date;
  /** `YYYY-MM-DD`, inclusive. */
  issuedFrom?: string;
  /** `YYYY-MM-DD`, inclusive. */
  issuedTo?: string;
  taxYear?: number;
  operation?: InvoiceOperation;
  vatNumber?: string;
  /** The codice fiscale to look for (hashed before it reaches a query; never logged). */
  patient?: string;
  limit: number;
  after?: ListCursor;
}

/** The query parameters `GET /v1/invoices` reads, each at most once. */
export const LIST_PARAMETERS = [
  'status',
  'credentialId',
  'receivedFrom',
  'receivedTo',
  'issuedFrom',
  'issuedTo',
  'taxYear',
  'operation',
  'vatNumber',
  'patient',
  'limit',
  'cursor',
] as const;

/** What `GET /v1/invoices/summary` reads: the list's filters that make sense for counts. */
export const SUMMARY_PARAMETERS = [
  'credentialId',
  'receivedFrom',
  'receivedTo',
  'issuedFrom',
  'issuedTo',
  'taxYear',
  'operation',
  'vatNumber',
] as const;

/** The filters of the summary (no status: it counts by status; no patient, paging or limit). */
export type InvoiceSummaryQuery = Omit<InvoiceListQuery, 'statuses' | 'patient' | 'limit' | 'after'>;

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const cursorSchema = z.strictObject({ r: z.string().regex(CURSOR_AT), i: z.uuid() });

export const encodeCursor = (cursor: ListCursor): string =>
  Buffer.from(JSON.stringify({ r: cursor.receivedAt, i: cursor.id })).toString('base64url');

function decodeCursor(text: string): ListCursor | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { receivedAt: parsed.data.r, id: parsed.data.i } : undefined;
  } catch {
    return undefined;
  }
}

const datetime = z.iso.datetime({ offset: true });
const calendarDate = z.iso.date();
const uuid = z.uuid();

/**
 * Reads the list's query parameters; every bad one is named with its rule (400 invalid-request).
 * Messages never repeat a value: `patient` is a codice fiscale.
 */
export function parseInvoiceListQuery(raw: Record<string, unknown>): InvoiceListQuery {
  return parseInvoiceQuery(raw, LIST_PARAMETERS);
}

/** Reads the summary's query parameters (the list's filters of `SUMMARY_PARAMETERS`), as the list's. */
export function parseInvoiceSummaryQuery(raw: Record<string, unknown>): InvoiceSummaryQuery {
  const { limit: _limit, ...filters } = parseInvoiceQuery(raw, SUMMARY_PARAMETERS);
  return filters;
}

function parseInvoiceQuery(raw: Record<string, unknown>, parameters: readonly string[]): InvoiceListQuery {
  const problems: FieldProblem[] = [];
  const bad = (field: string, rule: string, message: string) => {
    problems.push({ field, rule, message });
    return undefined;
  };
  const one = (field: string): string | undefined => {
    if (!parameters.includes(field)) return undefined;
    const value = raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return bad(field, 'single', `Give ${field} once.`);
    return value;
  };
  for (const name of Object.keys(raw)) {
    if (!parameters.includes(name)) {
      bad(
        name.slice(0, 40),
        'known-parameter',
        `Unknown parameter; this route reads ${parameters.join(', ')}.`,
      );
    }
  }
  const query: InvoiceListQuery = { limit: DEFAULT_LIST_LIMIT };

  const status = one('status');
  if (status !== undefined) {
    const statuses = status.split(',').map((item) => item.trim());
    if (statuses.some((item) => !(DOCUMENT_STATUSES as readonly string[]).includes(item))) {
      bad('status', 'enum', `Give one status or a comma list of: ${DOCUMENT_STATUSES.join(', ')}.`);
    } else query.statuses = [...new Set(statuses as DocumentStatus[])];
  }
  const credentialId = one('credentialId');
  if (credentialId !== undefined) {
    if (uuid.safeParse(credentialId).success) query.credentialId = credentialId.toLowerCase();
    else bad('credentialId', 'uuid', 'A credential id is a UUID.');
  }
  for (const field of ['receivedFrom', 'receivedTo'] as const) {
    const value = one(field);
    if (value === undefined) continue;
    if (datetime.safeParse(value).success) query[field] = new Date(value);
    else
      bad(
        field,
        'datetime',
        `Give ${field} as an ISO 8601 date and time with an offset, e.g. 2026-12-07T10:00:00Z.`,
      );
  }
  for (const field of ['issuedFrom', 'issuedTo'] as const) {
    const value = one(field);
    if (value === undefined) continue;
    if (calendarDate.safeParse(value).success) query[field] = value;
    else bad(field, 'date', `Give ${field} as a calendar date, YYYY-MM-DD.`);
  }
  if (query.receivedFrom && query.receivedTo && query.receivedFrom >= query.receivedTo) {
    bad('receivedTo', 'after-from', 'receivedTo (exclusive) must be later than receivedFrom.');
  }
  if (query.issuedFrom && query.issuedTo && query.issuedFrom > query.issuedTo) {
    bad('issuedTo', 'after-from', 'issuedTo must not be earlier than issuedFrom.');
  }
  const taxYear = one('taxYear');
  if (taxYear !== undefined) {
    if (/^\d{4}$/.test(taxYear) && Number(taxYear) >= 2000 && Number(taxYear) <= 2100)
      query.taxYear = Number(taxYear);
    else bad('taxYear', 'year', 'A tax year is a year of four digits, 2000 to 2100.');
  }
  const operation = one('operation');
  if (operation !== undefined) {
    if ((INVOICE_OPERATIONS as readonly string[]).includes(operation))
      query.operation = operation as InvoiceOperation;
    else bad('operation', 'enum', `An operation is one of: ${INVOICE_OPERATIONS.join(', ')}.`);
  }
  const vatNumber = one('vatNumber');
  if (vatNumber !== undefined) {
    const check = checkVatNumber(vatNumber, { allowKitTestIdentifiers: true });
    if (check.ok) query.vatNumber = check.value;
    else bad('vatNumber', 'vat-number', check.problem.message);
  }
  const patient = one('patient');
  if (patient !== undefined) {
    // Shape only: documents of the test environment carry the kit's codes, whose check characters
    // are wrong; a code nobody sent finds nothing.
    const check = checkTaxCode(patient, { allowKitTestIdentifiers: true });
    if (check.ok) query.patient = check.value;
    else bad('patient', 'tax-code', check.problem.message);
  }
  const limit = one('limit');
  if (limit !== undefined) {
    if (/^\d{1,3}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= MAX_LIST_LIMIT)
      query.limit = Number(limit);
    else bad('limit', 'range', `limit is a whole number from 1 to ${MAX_LIST_LIMIT}.`);
  }
  const cursor = one('cursor');
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (after) query.after = after;
    else
      bad(
        'cursor',
        'cursor',
        'The cursor is not one this API gave: pass the `next` of the previous page as it is.',
      );
  }
  if (problems.length) throw invalidRequest(problems);
  return query;
}
