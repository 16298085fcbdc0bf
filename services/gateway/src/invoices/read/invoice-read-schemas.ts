import { DOCUMENT_STATUSES } from '@sts/shared';
import { z } from 'zod';
import { DEFAULT_LIST_LIMIT, INVOICE_OPERATIONS, MAX_LIST_LIMIT } from './invoice-list-query.ts';
import type { InvoiceDetail, InvoiceSummary } from './invoice-read-service.ts';

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
