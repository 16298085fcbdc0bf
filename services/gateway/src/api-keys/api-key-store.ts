import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/database.ts';
import { isUuid } from '../tenants/tenant-store.ts';
import { type TenantRow, tenantsTable } from '../tenants/tenants-table.ts';
import { type ApiKeyRow, apiKeysTable } from './api-keys-table.ts';

export async function insertApiKey(db: Queryable, row: typeof apiKeysTable.$inferInsert): Promise<ApiKeyRow> {
  const [inserted] = await db.insert(apiKeysTable).values(row).returning();
  if (!inserted) throw new Error('an API key insert returned no row');
  return inserted;
}

/**
 * The key with this public prefix and its tenant, one look-up on a unique index per request, as a
 * named statement of `db`: built by drizzle once, parsed and planned by Postgres once per
 * connection, then sent as bind and execute only. Postgres moves a named statement to a generic
 * plan after five runs; for an equality on the unique prefix index (and the tenant's primary key)
 * the generic plan is the same index look-up. Still no cache of keys: each call reads the key and
 * its tenant as they are now, so a revocation holds from the next request on.
 */
export function apiKeyByPrefixLookup(
  db: Database,
): (prefix: string) => Promise<{ key: ApiKeyRow; tenant: TenantRow } | undefined> {
  const query = db
    .select({ key: apiKeysTable, tenant: tenantsTable })
    .from(apiKeysTable)
    .innerJoin(tenantsTable, eq(tenantsTable.id, apiKeysTable.tenantId))
    .where(eq(apiKeysTable.prefix, sql.placeholder('prefix')))
    .prepare('gateway_api_key_by_prefix');
  return async (prefix) => (await query.execute({ prefix }))[0];
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(apiKeysTable).where(eq(apiKeysTable.id, id));
  return row;
}

export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyRow[]> {
  if (!isUuid(tenantId)) return [];
  return db
    .select()
    .from(apiKeysTable)
    .where(eq(apiKeysTable.tenantId, tenantId))
    .orderBy(asc(apiKeysTable.createdAt), asc(apiKeysTable.id));
}

/** Sets `revoked_at` unless it is set already: the row as it is afterwards, and whether it changed. */
export async function revokeApiKey(
  db: Queryable,
  id: string,
  at: Date,
): Promise<{ row: ApiKeyRow; changed: boolean } | undefined> {
  if (!isUuid(id)) return undefined;
  const [revoked] = await db
    .update(apiKeysTable)
    .set({ revokedAt: at })
    .where(and(eq(apiKeysTable.id, id), isNull(apiKeysTable.revokedAt)))
    .returning();
  if (revoked) return { row: revoked, changed: true };
  const row = await findApiKey(db, id);
  return row && { row, changed: false };
}

/**
 * Records a use at `at` when the last one recorded is older than `before` (or none is): a key used
 * all day is written once a minute, not once a request. Concurrent requests race harmlessly.
 */
export async function touchApiKey(db: Queryable, id: string, at: Date, before: Date): Promise<void> {
  await db
    .update(apiKeysTable)
    .set({ lastUsedAt: at })
    .where(
      and(eq(apiKeysTable.id, id), or(isNull(apiKeysTable.lastUsedAt), lt(apiKeysTable.lastUsedAt, before))),
    );
}
