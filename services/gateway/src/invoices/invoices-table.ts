import {
  DOCUMENT_STATUSES,
  type DocumentStatus,
  FINAL_DOCUMENT_STATUSES,
  type StsMessage,
} from '@sts/shared';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from '../db/bytea.ts';
import { gatewaySchema } from '../db/schema.ts';
import { tenantsTable } from '../tenants/tenants-table.ts';

const statusList = sql.raw(DOCUMENT_STATUSES.map((status) => `'${status}'`).join(', '));
const finalList = sql.raw(FINAL_DOCUMENT_STATUSES.map((status) => `'${status}'`).join(', '));

/**
 * One invoice event: one operation (insert, update, refund, cancel) on one document, as accepted.
 *
 * - `document_key` names the document the event carries (its own identity: VAT number, issue date,
 *   device, number); with the operation (and, for updates, their content) it is unique per tenant,
 *   so a client retrying without an idempotency key never creates a second event.
 * - `chain_key` names the document the operation acts on (a refund acts on the refunded document),
 *   and `chain_sequence` is the event's place among the operations on it: the order they were
 *   accepted in, which the submitter keeps.
 * - The patient's codice fiscale is never stored in clear: `document` holds its SanitelCF ciphertext,
 *   `patient_hash` a keyed HMAC for look-ups (invoices/patient-privacy.ts).
 * - The status columns are the latest the submitter reported (`status_sequence` its order), applied
 *   only forwards; the changes themselves are in `invoice_history`.
 */
export const invoicesTable = gatewaySchema.table(
  'invoices',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenantsTable.id),
    credentialId: uuid('credential_id').notNull(),
    operation: text('operation').$type<'insert' | 'update' | 'refund' | 'cancel'>().notNull(),
    documentKey: text('document_key').notNull(),
    /**
     * What tells apart two events of one operation on one document: empty, except for updates, which
     * may correct a document more than once (the content hash of the update).
     */
    variant: text('variant').notNull().default(''),
    chainKey: text('chain_key').notNull(),
    chainSequence: integer('chain_sequence').notNull(),
    vatNumber: text('vat_number').notNull(),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    device: smallint('device').notNull(),
    number: text('number').notNull(),
    paymentDate: date('payment_date', { mode: 'string' }).notNull(),
    taxYear: smallint('tax_year').notNull(),
    patientHash: bytea('patient_hash'),
    /** The validated document, patient encrypted (`ExpenseDocument` of packages/sts). */
    document: jsonb('document').$type<Record<string, unknown>>().notNull(),
    /** SHA-256 of the event as received but with the patient's HMAC for its codice fiscale. */
    contentHash: bytea('content_hash').notNull(),
    environment: text('environment').$type<'test' | 'production'>().notNull(),
    /** Notices of validation (e.g. a late payment date), kept to explain a warning later. */
    notices: jsonb('notices').$type<unknown[]>(),
    status: text('status').$type<DocumentStatus>().notNull().default('received'),
    statusSequence: bigint('status_sequence', { mode: 'number' }).notNull().default(-1),
    statusAt: timestamp('status_at', { withTimezone: true }).notNull(),
    statusCause: text('status_cause'),
    protocol: text('protocol'),
    messages: jsonb('messages').$type<StsMessage[]>(),
    late: boolean('late'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    /**
     * When the event was last handed to the submitter again because no status came back, or none for
     * a long time (outbox-redelivery.ts).
     */
    redeliveredAt: timestamp('redelivered_at', { withTimezone: true }),
    /**
     * When an event under way is next due for a resync (outbox-redelivery.ts): set at each resync,
     * twice the previous wait later (capped); null until the first, and again after every status
     * change (status-service.ts), when the first is due `GATEWAY_RESYNC_AFTER_MS` after `status_at`.
     */
    nextResyncAt: timestamp('next_resync_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('invoices_identity').on(table.tenantId, table.documentKey, table.operation, table.variant),
    uniqueIndex('invoices_chain').on(table.tenantId, table.chainKey, table.chainSequence),
    index('invoices_tenant_received').on(table.tenantId, table.receivedAt, table.id),
    index('invoices_tenant_status').on(table.tenantId, table.status, table.receivedAt),
    // GET /v1/invoices/summary?taxYear= (the deadline report): counts by status and the oldest pending
    // from the index alone.
    index('invoices_tenant_tax_year').on(table.tenantId, table.taxYear, table.status, table.receivedAt),
    index('invoices_unanswered').on(table.receivedAt).where(sql`${table.status} = 'received'`),
    // Events under way (neither `received` nor final), by when their next resync is due: the resync of
    // outbox-redelivery.ts reads those never resynced since their last change (`next_resync_at is
    // null`, by `status_at`) and those whose backed-off resync is due (by `next_resync_at`), oldest first.
    index('invoices_unsettled')
      .on(table.nextResyncAt, table.statusAt)
      .where(sql`${table.status} not in ('received', ${finalList})`),
    index('invoices_tenant_patient')
      .on(table.tenantId, table.patientHash)
      .where(sql`${table.patientHash} is not null`),
    check('invoices_status', sql`${table.status} in (${statusList})`),
    check('invoices_operation', sql`${table.operation} in ('insert', 'update', 'refund', 'cancel')`),
    check(
      'invoices_patient_hash',
      sql`${table.patientHash} is null or octet_length(${table.patientHash}) = 32`,
    ),
  ],
);

export type InvoiceRow = typeof invoicesTable.$inferSelect;
export type NewInvoiceRow = typeof invoicesTable.$inferInsert;
