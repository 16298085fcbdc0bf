import { text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from '../db/schema.ts';

/**
 * A clinic (or any organisation) using the gateway. Every other gateway row names its tenant. A
 * disabled tenant keeps its rows but none of its API keys authenticates.
 */
export const tenantsTable = gatewaySchema.table('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
});

export type TenantRow = typeof tenantsTable.$inferSelect;
