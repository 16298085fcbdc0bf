import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { type TenantRow, tenantsTable } from './tenants-table.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

export async function insertTenant(db: Queryable, row: typeof tenantsTable.$inferInsert): Promise<TenantRow> {
  const [inserted] = await db.insert(tenantsTable).values(row).returning();
  if (!inserted) throw new Error('a tenant insert returned no row');
  return inserted;
}

export async function findTenant(
  db: Queryable,
  id: string,
  options: { lock?: 'update' | 'share' } = {},
): Promise<TenantRow | undefined> {
  if (!isUuid(id)) return undefined;
  const query = db.select().from(tenantsTable).where(eq(tenantsTable.id, id));
  const [row] = options.lock ? await query.for(options.lock) : await query;
  return row;
}

export async function updateTenant(
  db: Queryable,
  id: string,
  changes: Partial<typeof tenantsTable.$inferInsert>,
): Promise<TenantRow> {
  const [row] = await db.update(tenantsTable).set(changes).where(eq(tenantsTable.id, id)).returning();
  if (!row) throw new Error(`tenant ${id} vanished during an update`);
  return row;
}
