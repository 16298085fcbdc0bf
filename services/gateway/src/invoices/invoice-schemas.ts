import { DOCUMENT_STATUSES } from '@sts/shared';
import { DOCUMENT_TYPES, EXPENSE_TYPE_FLAGS, EXPENSE_TYPES, OPERATIONS } from '@sts/sts';
import { z } from 'zod';
import { invoiceEvent } from './invoice-examples.ts';

/**
 * The invoice event as the API documents it (OpenAPI at /docs). Documentation only: the handler
 * validates with packages/sts (`validateExpenseDocument`), which knows every rule of the STS; these
 * schemas give the shape, and their descriptions the main rules.
 */
const documentId = z.object({
  vatNumber: z.string().describe('Partita IVA of the issuer, 11 digits with a valid check digit'),
  issueDate: z.string().describe('YYYY-MM-DD, not after today'),
  device: z.number().int().describe('1–999: the cash register; 1 for invoices'),
  number: z.string().describe('1–20 characters of A-Z a-z 0-9 _ . / \\ -'),
});

export const invoiceEventSchema = z.object({
  operation: z
    .enum(OPERATIONS)
    .describe('insert, update, refund (a new document refunding another) or cancel'),
  credentialId: z
    .uuid()
    .optional()
    .describe(
      "The sender credential; optional when exactly one of the tenant's credentials has the VAT number",
    ),
  document: z
    .object({
      id: documentId,
      refundedDocumentId: documentId.optional().describe('For a refund: the document it refunds'),
      paymentDate: z
        .string()
        .optional()
        .describe('YYYY-MM-DD; decides the tax year (required but for a cancel by id)'),
      paidInAdvance: z.boolean().optional(),
      patient: z
        .object({
          kind: z.enum(['identified', 'opposed']),
          taxCode: z
            .string()
            .optional()
            .describe(
              'The patient codice fiscale (identified only): encrypted at once, never stored in clear',
            ),
        })
        .optional()
        .describe(
          'Identified by codice fiscale, or opposed to the transmission (then without it); required but for a cancel by id',
        ),
      traceablePayment: z
        .boolean()
        .optional()
        .describe('Paid by traceable means; required except for TK, FC, AD, FV'),
      documentType: z.enum(DOCUMENT_TYPES).optional().describe('invoice or receipt; required from 2021'),
      lines: z
        .array(
          z.object({
            expenseType: z.enum(EXPENSE_TYPES),
            expenseTypeFlag: z.enum(EXPENSE_TYPE_FLAGS).optional(),
            amount: z.string().describe('Decimal string, positive, at most 99999.99'),
            vatRate: z.string().optional().describe('Decimal string 0–100; or vatNature'),
            vatNature: z
              .string()
              .optional()
              .describe('N1–N6 (receipts), N1–N7 or sub-codes (invoices); or vatRate'),
          }),
        )
        .optional()
        .describe('At least one line (a cancellation may give only the id)'),
    })
    .describe('The document in the English model of packages/sts; a cancellation may carry only its id'),
});

export const acceptedInvoiceSchema = z.object({
  id: z.uuid(),
  operation: z.enum(OPERATIONS),
  credentialId: z.uuid(),
  status: z.enum(DOCUMENT_STATUSES),
  receivedAt: z.string(),
});

export const singleAnswerSchema = z.object({
  invoice: acceptedInvoiceSchema,
  duplicate: z
    .literal(true)
    .optional()
    .describe('The same event was accepted before: nothing new was stored'),
});

const eventProblem = z.object({
  field: z.string(),
  rule: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  stsCode: z.string().optional(),
});

export const batchAnswerSchema = z.object({
  summary: z.object({
    received: z.number().int(),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
  }),
  items: z.array(
    z.object({
      index: z.number().int().optional().describe('The event’s place in a JSON batch, from 0'),
      line: z.number().int().optional().describe('The event’s line in an NDJSON batch, from 1'),
      outcome: z.enum(['accepted', 'duplicate', 'rejected']),
      invoice: acceptedInvoiceSchema.optional(),
      status: z.number().int().optional(),
      type: z.string().optional(),
      errors: z.array(eventProblem).optional(),
    }),
  ),
});

export const batchBodySchema = z.object({ events: z.array(invoiceEventSchema).min(1).max(1000) });

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('1–255 visible ASCII characters: the same key and body answer the stored response'),
});

export const examples = {
  event: invoiceEvent(),
};
