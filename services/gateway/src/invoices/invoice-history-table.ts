import type { DocumentStatus, StsMessage } from '@sts/shared';
import { bigint, boolean, index, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from '../db/schema.ts';
import { invoicesTable } from './invoices-table.ts';

/**
 * Every status change the gateway applied to an invoice event, as the submitter reported it
 * (`document.status` jobs). `event_id` is the submitter's id of the event: a repeated delivery is
 * recognised and not recorded twice. The first state, `received`, is the invoice's `received_at`.
 */
export const invoiceHistoryTable = gatewaySchema.table(
  'invoice_history',
  {
    eventId: uuid('event_id').primaryKey(),
    invoiceId: uuid('invoice_id')
      .notNull()
      .references(() => invoicesTable.id),
    status: text('status').$type<DocumentStatus>().notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    cause: text('cause'),
    protocol: text('protocol'),
    messages: jsonb('messages').$type<StsMessage[]>(),
    late: boolean('late'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('invoice_history_invoice').on(table.invoiceId, table.sequence)],
);

export type InvoiceHistoryRow = typeof invoiceHistoryTable.$inferSelect;
