import type { JobPayload } from '@sts/shared';
import { index, integer, jsonb, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from '../db/schema.ts';

/**
 * Accepted invoice events waiting to be handed to the submitter: written in the transaction that
 * accepts them, moved into BullMQ by the relay (outbox-relay.ts) and deleted once enqueued. One row
 * is one `documents.accepted` job, its id the job id, so a relay that runs twice enqueues once.
 */
export const outboxTable = gatewaySchema.table(
  'outbox',
  {
    id: uuid('id').primaryKey(),
    payload: jsonb('payload').$type<JobPayload<'documents.accepted'>>().notNull(),
    documents: integer('documents').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('outbox_created').on(table.createdAt, table.id)],
);

export type OutboxRow = typeof outboxTable.$inferSelect;
