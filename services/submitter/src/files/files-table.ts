import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { submitterSchema } from '../db/schema.ts';

export const FILE_STATES = [
  'ready',
  'submitting',
  'uncertain',
  'received',
  'completed',
  'rejected',
  'blocked',
] as const;
export type FileState = (typeof FILE_STATES)[number];

const stateList = sql.raw(FILE_STATES.map((state) => `'${state}'`).join(', '));

/**
 * One 730 file (a zip of at most 5 MB) of one credential: built (`ready`, the zip in the proof
 * store), being sent (`submitting`), answer lost (`uncertain`), taken by the STS (`received`, with
 * its protocol; polled until processed), `completed` (outcome and receipt fetched), `rejected`
 * whole, or `blocked` (its credential cannot be used; sent again once it can).
 */
export const filesTable = submitterSchema.table(
  'files',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    credentialId: uuid('credential_id').notNull(),
    state: text('state').$type<FileState>().notNull(),
    fileName: text('file_name').notNull(),
    documentCount: integer('document_count').notNull(),
    zipBytes: integer('zip_bytes').notNull(),
    /** The proof-store id of the exact zip sent. */
    zipProofId: uuid('zip_proof_id'),
    protocol: text('protocol'),
    /** `UploadReceipt.receivedAt` as the STS wrote it. */
    stsReceivedAt: text('sts_received_at'),
    pollRound: integer('poll_round').notNull().default(0),
    /** Sends of this file so far (1 the first; more when reconciliation found it never arrived, or its credential resumed). */
    sendAttempt: integer('send_attempt').notNull().default(1),
    /** The last `EsitoInvii` answer for the file. */
    outcome: jsonb('outcome').$type<Record<string, unknown>>(),
    submittingSince: timestamp('submitting_since', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('files_credential_state').on(table.credentialId, table.state),
    index('files_protocol').on(table.tenantId, table.protocol),
    check('files_state', sql`${table.state} in (${stateList})`),
  ],
);
