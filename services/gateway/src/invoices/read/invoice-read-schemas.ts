import { DOCUMENT_STATUSES } from '@sts/shared';
import { z } from 'zod';
import { DEFAULT_LIST_LIMIT, INVOICE_OPERATIONS, MAX_LIST_LIMIT } from './invoice-list-query.ts';
import {
  type InvoiceDetail,
  type InvoiceLookup,
  type InvoiceStatusSummary,
  type InvoiceSummary,
  MAX_LOOKUP_IDS,
  MAX_REJECTION_REASONS,
} from './invoice-read-service.ts';

/** The schemas and examples of `GET /v1/invoices…` (OpenAPI and the doc test read them). */

const explainedMessage = z.object({
  code: z.string().describe('The STS code, verbatim (`S017`, `W008` …)'),
  kind: z.enum(['error', 'warning', 'info']),
  text: z.string().describe('The STS text, verbatim'),
  known: z.boolean().describe('Whether our error catalogue knows the code'),
  class: z.string().describe('What the code means for the document (`warning`, `document` = rejected …)'),
  explanation: z.object({ it: z.string(), en: z.string() }).describe('Cause and remedy, from our catalogue'),
});

const summaryShape = {
  id: z.uuid(),
  status: z.enum(DOCUMENT_STATUSES),
  operation: z.enum(INVOICE_OPERATIONS),
  credentialId: z.uuid(),
  document: z.object({
    vatNumber: z.string(),
    issueDate: z.iso.date(),
    device: z.number().int(),
    number: z.string(),
  }),
  taxYear: z.number().int(),
  patient: z
    .enum(['identified', 'opposed'])
    .nullable()
    .describe(
      'Whether the patient is identified by a codice fiscale or opposed to its sending; never the code',
    ),
  receivedAt: z.iso.datetime(),
  statusAt: z.iso.datetime(),
  protocol: z.string().nullable().describe('The STS protocol of the send that carried the document'),
  late: z.boolean().nullable().describe('The payment date lies in a period the STS treats as late (W008)'),
};

export const invoiceSummarySchema = z.object(summaryShape);

export const invoiceDetailSchema = z.object({
  ...summaryShape,
  paymentDate: z.iso.date(),
  environment: z.enum(['test', 'production']),
  statusCause: z.string().nullable(),
  messages: z.array(explainedMessage),
  history: z
    .array(
      z.object({
        status: z.enum(DOCUMENT_STATUSES),
        at: z.iso.datetime(),
        cause: z.string().nullable(),
        protocol: z.string().nullable(),
        messages: z.array(explainedMessage),
        late: z.boolean().nullable().optional(),
      }),
    )
    .describe('`received` first, then every status change applied, in order'),
});

export const invoiceListSchema = z.object({
  items: z.array(invoiceSummarySchema),
  next: z.string().nullable().describe('The cursor of the next page; null on the last'),
});

export const invoiceIdParams = z.object({ id: z.string().describe('The invoice event id (a UUID)') });

const text = (description: string) => z.string().optional().describe(description);

/** Documents the list's parameters; `parseInvoiceListQuery` checks them (one rule per field). */
export const invoiceListQuerystring = z.strictObject({
  status: text(`One status or a comma list: ${DOCUMENT_STATUSES.join(', ')}`),
  credentialId: text('The credential (UUID) the documents were sent with'),
  receivedFrom: text('Received at or after (ISO 8601 date and time with offset)'),
  receivedTo: text('Received before (ISO 8601 date and time with offset)'),
  issuedFrom: text('Issued on or after (YYYY-MM-DD)'),
  issuedTo: text('Issued on or before (YYYY-MM-DD)'),
  taxYear: text('The tax year (of the payment date)'),
  operation: text(INVOICE_OPERATIONS.join(', ')),
  vatNumber: text('The issuer’s partita IVA'),
  patient: text('A patient’s codice fiscale: matched through a keyed hash, never stored nor logged'),
  limit: text(`Items per page, 1 to ${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT})`),
  cursor: text('The `next` of the previous page'),
});

const SAMPLE_ID = '5b7e0c1a-2d3f-4e5a-8b6c-7d8e9f0a1b2c';
const sampleSummary: InvoiceSummary = {
  id: SAMPLE_ID,
  status: 'accepted_with_warnings',
  operation: 'insert',
  credentialId: '0b0d7e39-5a51-4c3c-8f1e-2f0c3c4d5e6f',
  document: { vatNumber: '12345678903', issueDate: '2026-03-02', device: 1, number: 'F-2026-0042' },
  taxYear: 2026,
  patient: 'identified',
  receivedAt: '2026-03-02T09:00:00.000Z',
  statusAt: '2026-03-02T11:40:00.000Z',
  protocol: '26030211354512345',
  late: false,
};
const sampleWarning = {
  code: 'W001',
  kind: 'warning' as const,
  text: 'Testo del Sistema TS, come ricevuto',
  known: false,
  class: 'warning',
  explanation: {
    it: 'Codice non presente nel nostro catalogo. …',
    en: 'Code not in our catalogue. By the Sistema TS rule, codes starting with W are warnings: the document was taken in. …',
  },
};
export const invoiceDetailExample: InvoiceDetail = {
  ...sampleSummary,
  paymentDate: '2026-03-02',
  environment: 'production',
  statusCause: 'sts-accepted',
  messages: [sampleWarning],
  history: [
    { status: 'received', at: '2026-03-02T09:00:00.000Z', cause: null, protocol: null, messages: [] },
    {
      status: 'queued',
      at: '2026-03-02T09:00:01.000Z',
      cause: null,
      protocol: null,
      messages: [],
      late: null,
    },
    {
      status: 'submitted',
      at: '2026-03-02T11:35:45.000Z',
      cause: null,
      protocol: '26030211354512345',
      messages: [],
      late: null,
    },
    {
      status: 'accepted_with_warnings',
      at: '2026-03-02T11:40:00.000Z',
      cause: 'sts-accepted',
      protocol: '26030211354512345',
      messages: [sampleWarning],
      late: false,
    },
  ],
};
export const invoiceListExample = {
  items: [sampleSummary],
  next: 'eyJyIjoiMjAyNi0wMy0wMlQwOTowMDowMC4wMDAwMDBaIiwiaSI6IjViN2UwYzFhLTJkM2YtNGU1YS04YjZjLTdkOGU5ZjBhMWIyYyJ9',
};

// ---- POST /v1/invoices/lookup ---------------------------------------------------------------------

export const invoiceLookupBody = z.strictObject({
  ids: z
    .array(z.uuid())
    .min(1)
    .max(MAX_LOOKUP_IDS)
    .describe(`Invoice event ids (UUIDs), 1 to ${MAX_LOOKUP_IDS}; repeats are answered once`),
});

export const invoiceLookupSchema = z.object({
  items: z
    .array(
      invoiceSummarySchema.extend({
        statusCause: z.string().nullable().describe('Why it is in its status, in a stable code'),
        messages: z
          .array(explainedMessage)
          .describe('The STS messages of its status, as in `GET /v1/invoices/:id`'),
      }),
    )
    .describe(
      'The invoice events found, in the order asked: each an item of `GET /v1/invoices` with its status cause and STS messages',
    ),
  missing: z.array(z.uuid()).describe('The ids asked for that name no invoice event of this tenant'),
});

const MISSING_ID = '0f1e2d3c-4b5a-4968-8776-655443322110';
export const invoiceLookupExample = {
  body: { ids: [SAMPLE_ID, MISSING_ID] },
  answer: {
    items: [{ ...sampleSummary, statusCause: 'sts-accepted', messages: [sampleWarning] }],
    missing: [MISSING_ID],
  } satisfies InvoiceLookup,
};

// ---- GET /v1/invoices/summary ---------------------------------------------------------------------

/** Documents the summary's parameters; `parseInvoiceSummaryQuery` checks them as the list's. */
export const invoiceSummaryQuerystring = invoiceListQuerystring.pick({
  credentialId: true,
  receivedFrom: true,
  receivedTo: true,
  issuedFrom: true,
  issuedTo: true,
  taxYear: true,
  operation: true,
  vatNumber: true,
});

export const invoiceStatusSummarySchema = z.object({
  total: z.number().int().describe('Invoice events the filters select'),
  byStatus: z
    .object(Object.fromEntries(DOCUMENT_STATUSES.map((status) => [status, z.number().int()])))
    .describe('How many are in each status (every status, 0 included)'),
  final: z.number().int().describe('accepted + accepted_with_warnings + rejected'),
  pending: z.number().int().describe('Not final yet: total − final'),
  rejections: z
    .array(
      z.object({
        code: z
          .string()
          .describe('The STS code of an error message (a document rejected without one: its status cause)'),
        message: z
          .string()
          .nullable()
          .describe('The STS text of that code, verbatim (its most frequent one)'),
        count: z.number().int().describe('Rejected documents carrying this code'),
      }),
    )
    .describe(`The reasons of rejection, the ${MAX_REJECTION_REASONS} most frequent first`),
  oldestPendingReceivedAt: z.iso
    .datetime()
    .nullable()
    .describe('When the oldest event not final yet was received; null when none is pending'),
});

export const invoiceStatusSummaryExample: InvoiceStatusSummary = {
  total: 10_000,
  byStatus: {
    received: 0,
    queued: 120,
    submitting: 0,
    submitted: 30,
    uncertain: 0,
    blocked: 0,
    accepted: 9_700,
    accepted_with_warnings: 100,
    rejected: 50,
  },
  final: 9_850,
  pending: 150,
  rejections: [
    { code: 'S017', message: 'Testo del Sistema TS, come ricevuto', count: 42 },
    { code: 'S011', message: 'Testo del Sistema TS, come ricevuto', count: 8 },
  ],
  oldestPendingReceivedAt: '2026-03-02T09:00:00.000Z',
};
