import { index, integer, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from '../db/schema.ts';
import { webhookDeliveriesTable } from './webhook-deliveries-table.ts';

/**
 * The delivery log: one row per HTTP attempt of a delivery, with when, how long, and the receiver's
 * HTTP status or the class of the error (`timeout`, `connection`, `redirect`, `url-refused` …).
 * Never the secret, the signature or the receiver's answer.
 */
export const webhookDeliveryAttemptsTable = gatewaySchema.table(
  'webhook_delivery_attempts',
  {
    id: uuid('id').primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveriesTable.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    httpStatus: smallint('http_status'),
    errorClass: text('error_class'),
  },
  (table) => [index('webhook_delivery_attempts_delivery').on(table.deliveryId, table.attemptedAt)],
);

export type WebhookDeliveryAttemptRow = typeof webhookDeliveryAttemptsTable.$inferSelect;
