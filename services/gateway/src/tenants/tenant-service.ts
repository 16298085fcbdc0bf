import { randomUUID } from 'node:crypto';
import { API_KEY_SCOPE_NAMES, type Clock, invalidRequest, notFound, refusedCharacters } from '@sts/shared';
import { checkedLabel, checkedScopes, type IssuedApiKey, issueApiKey } from '../api-keys/api-key-service.ts';
import type { Database } from '../db/database.ts';
import { findTenant, insertTenant, updateTenant } from './tenant-store.ts';
import type { TenantRow } from './tenants-table.ts';

export const MAX_TENANT_NAME_LENGTH = 200;
/** The first key's label when none is given. */
export const FIRST_KEY_LABEL = 'first key';

export interface TenantView {
  id: string;
  name: string;
  createdAt: string;
  disabledAt: string | null;
}

export const viewTenant = (row: TenantRow): TenantView => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  disabledAt: row.disabledAt?.toISOString() ?? null,
});

function checkedName(given: string): string {
  const name = given.trim();
  const problem =
    refusedCharacters('name', name) ??
    (name.length === 0
      ? { field: 'name', rule: 'required', message: 'A tenant needs a name (the clinic’s, for people).' }
      : name.length > MAX_TENANT_NAME_LENGTH
        ? {
            field: 'name',
            rule: 'max-length',
            message: `A tenant name has at most ${MAX_TENANT_NAME_LENGTH} characters.`,
          }
        : undefined);
  if (problem) throw invalidRequest([problem]);
  return name;
}

export interface TenantService {
  /**
   * A new tenant and its first API key, in one transaction. Scopes default to all of them: the
   * first key is the one the clinic starts with.
   */
  create(input: {
    name: string;
    scopes?: readonly string[] | undefined;
    label?: string | undefined;
  }): Promise<{ tenant: TenantView; firstKey: IssuedApiKey }>;
  get(id: string): Promise<TenantView>;
  /** From now on none of the tenant's keys authenticates; disabling twice changes nothing. */
  disable(id: string): Promise<TenantView>;
}

export function createTenantService({ db, clock }: { db: Database; clock: Clock }): TenantService {
  return {
    async create(input) {
      const name = checkedName(input.name);
      const scopes = checkedScopes(input.scopes ?? API_KEY_SCOPE_NAMES);
      const label = checkedLabel(input.label ?? FIRST_KEY_LABEL) ?? undefined;
      return db.transaction(async (tx) => {
        const tenant = await insertTenant(tx, { id: randomUUID(), name, createdAt: clock() });
        const firstKey = await issueApiKey(tx, clock, tenant, { scopes, label });
        return { tenant: viewTenant(tenant), firstKey };
      });
    },

    async get(id) {
      const tenant = await findTenant(db, id);
      if (!tenant) throw notFound(`Tenant ${id.slice(0, 64)}`);
      return viewTenant(tenant);
    },

    async disable(id) {
      return db.transaction(async (tx) => {
        const tenant = await findTenant(tx, id, { lock: 'update' });
        if (!tenant) throw notFound(`Tenant ${id.slice(0, 64)}`);
        if (tenant.disabledAt) return viewTenant(tenant);
        return viewTenant(await updateTenant(tx, tenant.id, { disabledAt: clock() }));
      });
    },
  };
}
