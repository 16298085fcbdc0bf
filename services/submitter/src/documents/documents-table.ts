import type { StsMessage } from '@sts/shared';
import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { submitterSchema } from '../db/schema.ts';

/**
 * The submitter's states of a document (one operation on one document, one gateway invoice event).
 * Public ones are reported to the gateway as status events; `assigned` (put in a file or given a
 * single-document send, not yet being sent) is internal: the gateway still sees `queued`.
 */
export const DOCUMENT_STATES = [
  'queued',
  'assigned',
  'submitting',
  'submitted',
  'uncertain',
  'blocked',
  'accepted',
  'accepted_with_warnings',
  'rejected',
] as const;
export type DocumentState = (typeof DOCUMENT_STATES)[number];
export const FINAL_STATES = [
  'accepted',
  'accepted_with_warnings',
  'rejected',
] as const satisfies DocumentState[];

const stateList = sql.raw(DOCUMENT_STATES.map((state) => `'${state}'`).join(', '));

/**
 * Every operation the gateway accepted, as the submitter holds it until it is final, and after (the
 * record of what happened). `chain_key`/`chain_sequence` order operations on one document: one goes
 * only once the one before it is final. `state_sequence` numbers the status events sent for it.
 * `file_id` (batch) or `submission_id` (single-document service) names the send it is part of.
 */
export const documentsTable = submitterSchema.table(
  'documents',
  {
    invoiceId: uuid('invoice_id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    credentialId: uuid('credential_id').notNull(),
    chainKey: text('chain_key').notNull(),
    chainSequence: integer('chain_sequence').notNull(),
    operation: text('operation').notNull(),
    /** `ExpenseDocument` of packages/sts, the patient's codice fiscale encrypted (SanitelCF). */
    document: jsonb('document').$type<Record<string, unknown>>().notNull(),
    state: text('state').$type<DocumentState>().notNull(),
    stateSequence: integer('state_sequence').notNull(),
    cause: text('cause'),
    fileId: uuid('file_id'),
    submissionId: uuid('submission_id'),
    protocol: text('protocol'),
    messages: jsonb('messages').$type<StsMessage[]>(),
    /** When the current send began (`submitting`): a crashed sender's rows are found by it. */
    submittingSince: timestamp('submitting_since', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('documents_credential_state').on(table.credentialId, table.state, table.receivedAt),
    uniqueIndex('documents_chain').on(table.tenantId, table.chainKey, table.chainSequence),
    index('documents_file').on(table.fileId),
    index('documents_submitting').on(table.state, table.submittingSince),
    // Queued operations that follow another (every chain begins at 1, so a successor is > 1): few
    // rows, read when a send ends to find the next operations that may now go (docs/decisions.md).
    index('documents_queued_successors')
      .on(table.tenantId, table.chainKey, table.chainSequence)
      .where(sql`${table.state} = 'queued' and ${table.chainSequence} > 1`),
    // The credentials with waiting or blocked documents, read by each sweep with a loose index scan.
    index('documents_waiting_credentials')
      .on(table.state, table.credentialId, table.tenantId)
      .where(sql`${table.state} in ('queued', 'blocked')`),
    check('documents_state', sql`${table.state} in (${stateList})`),
  ],
);
