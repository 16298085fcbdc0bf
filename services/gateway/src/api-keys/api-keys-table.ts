import { API_KEY_SCOPE_NAMES, type ApiKeyScope } from '@sts/shared';
import { sql } from 'drizzle-orm';
import { check, index, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bytea } from '../db/bytea.ts';
import { gatewaySchema } from '../db/schema.ts';
import { tenantsTable } from '../tenants/tenants-table.ts';

const scopeList = sql.raw(API_KEY_SCOPE_NAMES.map((scope) => `'${scope}'`).join(', '));

/**
 * A tenant's API keys. The key itself (`sts_<prefix>_<secret>`) is shown once, when it is made; only
 * its public prefix (the look-up) and the SHA-256 of the whole key are kept (api-key-secret.ts).
 * `last_used_at` is written at most once a minute per key; a revoked key keeps its row.
 */
export const apiKeysTable = gatewaySchema.table(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenantsTable.id),
    prefix: text('prefix').notNull(),
    secretHash: bytea('secret_hash').notNull(),
    scopes: text('scopes').array().$type<ApiKeyScope[]>().notNull(),
    label: text('label'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('api_keys_prefix').on(table.prefix),
    index('api_keys_tenant').on(table.tenantId, table.createdAt),
    check(
      'api_keys_scopes',
      sql`cardinality(${table.scopes}) >= 1 and ${table.scopes} <@ array[${scopeList}]::text[]`,
    ),
    check('api_keys_secret_hash', sql`octet_length(${table.secretHash}) = 32`),
  ],
);

export type ApiKeyRow = typeof apiKeysTable.$inferSelect;
