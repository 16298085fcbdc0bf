import { sql } from 'drizzle-orm';
import { check, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from '../db/bytea.ts';
import { gatewaySchema } from '../db/schema.ts';
import { tenantsTable } from '../tenants/tenants-table.ts';

/**
 * `Idempotency-Key` records: per tenant and key, the hash of the request (method, route, body) and,
 * once answered, the answer. A streamed batch writes its record `in_flight` first and completes it
 * at the end; a record left `in_flight` by a crashed gateway is taken over after a while (the
 * natural identity of each document still keeps the retry from duplicating anything).
 */
export const idempotencyKeysTable = gatewaySchema.table(
  'idempotency_keys',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenantsTable.id),
    key: text('key').notNull(),
    requestHash: bytea('request_hash'),
    state: text('state').$type<'in_flight' | 'done'>().notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    contentType: text('content_type'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.key] }),
    check('idempotency_keys_state', sql`${table.state} in ('in_flight', 'done')`),
  ],
);

export type IdempotencyKeyRow = typeof idempotencyKeysTable.$inferSelect;
