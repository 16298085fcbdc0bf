import type { DocumentStatusEvent } from '@sts/shared';
import { index, jsonb, timestamp, uuid } from 'drizzle-orm/pg-core';
import { submitterSchema } from '../db/schema.ts';

/**
 * Status events for the gateway, written in the transaction that changes the document's state and
 * moved into BullMQ by the status relay, grouped (`document.status` jobs of up to 500 events).
 */
export const statusOutboxTable = submitterSchema.table(
  'status_outbox',
  {
    id: uuid('id').primaryKey(),
    payload: jsonb('payload').$type<DocumentStatusEvent>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('status_outbox_created').on(table.createdAt, table.id)],
);
