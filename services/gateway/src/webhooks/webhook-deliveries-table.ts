import { sql } from 'drizzle-orm';
import { check, index, integer, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from '../db/schema.ts';
import { tenantsTable } from '../tenants/tenants-table.ts';
import { webhookEndpointsTable } from './webhook-endpoints-table.ts';
import type { WebhookEventType } from './webhook-events.ts';

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * One event to one endpoint. `body` is the exact JSON sent (and signed) on every attempt; `event_id`
 * is its `Webhook-Id`, the same for every endpoint of the event and for a manual replay (a new
 * delivery, `replay_of` the one replayed), so a receiver recognises an event it already has.
 * `dedupe_key` makes emitting idempotent per endpoint (a status event handled twice is one delivery).
 */
export const webhookDeliveriesTable = gatewaySchema.table(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenantsTable.id),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpointsTable.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').$type<WebhookEventType>().notNull(),
    body: text('body').notNull(),
    dedupeKey: text('dedupe_key'),
    replayOf: uuid('replay_of'),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('pending'),
    attemptCount: integer('attempt_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_dedupe')
      .on(table.endpointId, table.dedupeKey)
      .where(sql`${table.dedupeKey} is not null`),
    index('webhook_deliveries_endpoint').on(table.endpointId, table.createdAt, table.id),
    index('webhook_deliveries_pending').on(table.createdAt).where(sql`${table.status} = 'pending'`),
    check('webhook_deliveries_status', sql`${table.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

export type WebhookDeliveryRow = typeof webhookDeliveriesTable.$inferSelect;
