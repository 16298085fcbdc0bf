import type { CredentialStatus } from '@sts/shared';
import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { type CredentialRow, credentialsTable } from './credentials-table.ts';

/**
 * Whose credentials a caller may see: a tenant's (service token from the gateway or the submitter),
 * or an operator's own (CNS certificate): those whose STS user or owner is their codice fiscale.
 * Anything outside answers "not found", never "forbidden".
 */
export type Scope = { kind: 'tenant'; tenantId: string } | { kind: 'operator'; taxCode: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

export function scopeCondition(scope: Scope): SQL {
  return scope.kind === 'tenant'
    ? eq(credentialsTable.tenantId, scope.tenantId)
    : (or(
        eq(credentialsTable.stsUser, scope.taxCode),
        eq(credentialsTable.ownerTaxCode, scope.taxCode),
      ) as SQL);
}

export async function findCredential(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { lock?: 'update' | 'share' } = {},
): Promise<CredentialRow | undefined> {
  if (!isUuid(id)) return undefined;
  const query = db
    .select()
    .from(credentialsTable)
    .where(and(eq(credentialsTable.id, id), scopeCondition(scope)));
  const [row] = options.lock ? await query.for(options.lock) : await query;
  return row;
}

export async function listCredentials(
  db: Queryable,
  scope: Scope,
  filter: { status?: CredentialStatus; after?: string; limit: number },
): Promise<CredentialRow[]> {
  const conditions = [scopeCondition(scope)];
  if (filter.status) conditions.push(eq(credentialsTable.status, filter.status));
  if (filter.after && isUuid(filter.after)) conditions.push(gt(credentialsTable.id, filter.after));
  return db
    .select()
    .from(credentialsTable)
    .where(and(...conditions))
    .orderBy(asc(credentialsTable.id))
    .limit(filter.limit);
}

export async function insertCredential(
  db: Queryable,
  row: typeof credentialsTable.$inferInsert,
): Promise<void> {
  await db.insert(credentialsTable).values(row);
}

export async function updateCredential(
  db: Queryable,
  id: string,
  changes: Partial<typeof credentialsTable.$inferInsert>,
): Promise<CredentialRow> {
  const [row] = await db.update(credentialsTable).set(changes).where(eq(credentialsTable.id, id)).returning();
  if (!row) throw new Error(`credential ${id} vanished during an update`);
  return row;
}

export async function deleteCredential(db: Queryable, id: string): Promise<void> {
  await db.delete(credentialsTable).where(eq(credentialsTable.id, id));
}
