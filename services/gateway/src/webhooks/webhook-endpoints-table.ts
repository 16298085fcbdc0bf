import { sql } from 'drizzle-orm';
import { boolean, check, index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from '../db/bytea.ts';
import { gatewaySchema } from '../db/schema.ts';
import { tenantsTable } from '../tenants/tenants-table.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.ts';

const typeList = sql.raw(WEBHOOK_EVENT_TYPES.map((type) => `'${type}'`).join(', '));

/** Longest webhook URL accepted (webhook-url.ts). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * A tenant's webhook endpoints. The signing secret is shown once, when it is made (or rotated), and
 * kept only encrypted (AES-256-GCM under `GATEWAY_WEBHOOK_SECRET_KEY`, webhook-secret-box.ts), since
 * the gateway needs it to sign. After a rotation the previous secret still signs, beside the new
 * one, until `previous_secret_expires_at`, so a receiver can switch without losing deliveries.
 */
export const webhookEndpointsTable = gatewaySchema.table(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenantsTable.id),
    url: text('url').notNull(),
    description: text('description'),
    eventTypes: text('event_types').array().$type<WebhookEventType[]>().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    secretCiphertext: bytea('secret_ciphertext').notNull(),
    previousSecretCiphertext: bytea('previous_secret_ciphertext'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('webhook_endpoints_tenant').on(table.tenantId, table.createdAt, table.id),
    check(
      'webhook_endpoints_event_types',
      sql`cardinality(${table.eventTypes}) >= 1 and ${table.eventTypes} <@ array[${typeList}]::text[]`,
    ),
    check(
      'webhook_endpoints_url_length',
      sql`char_length(${table.url}) <= ${sql.raw(String(MAX_WEBHOOK_URL_LENGTH))}`,
    ),
  ],
);

export type WebhookEndpointRow = typeof webhookEndpointsTable.$inferSelect;
