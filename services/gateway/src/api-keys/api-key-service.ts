import { randomUUID } from 'node:crypto';
import {
  API_KEY_SCOPE_NAMES,
  type ApiKeyScope,
  type Clock,
  type FieldProblem,
  invalidRequest,
  isApiKeyScope,
  notFound,
  ProblemError,
  refusedCharacters,
} from '@sts/shared';
import type { Database, Queryable } from '../db/database.ts';
import { findTenant } from '../tenants/tenant-store.ts';
import type { TenantRow } from '../tenants/tenants-table.ts';
import { apiKeyMatches, apiKeyPrefixOf, generateApiKeySecret } from './api-key-secret.ts';
import {
  apiKeyByPrefixLookup,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from './api-key-store.ts';
import type { ApiKeyRow } from './api-keys-table.ts';

/** How long a recorded last use stands before a request writes a newer one. */
export const LAST_USE_RESOLUTION_MS = 60_000;
export const MAX_LABEL_LENGTH = 200;

/** An API key as it may be shown: never its secret nor its hash. */
export interface ApiKeyView {
  id: string;
  tenantId: string;
  prefix: string;
  scopes: ApiKeyScope[];
  label: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A key just made: its view and the key itself, which is shown this once and never again. */
export interface IssuedApiKey {
  apiKey: ApiKeyView;
  key: string;
}

/** Who a request authenticated as: the tenant and the key. */
export interface ApiKeyPrincipal {
  tenant: { id: string; name: string };
  apiKey: { id: string; prefix: string; scopes: ApiKeyScope[]; label: string | null };
}

export type ApiKeyAuthentication =
  | { ok: true; principal: ApiKeyPrincipal }
  | {
      ok: false;
      /**
       * `malformed`: not a key of ours; `unknown`: no key with that prefix, or the secret is wrong
       * (the two are not told apart); `revoked`: the right key, revoked; `tenant-disabled`: the
       * right key of a disabled tenant.
       */
      reason: 'malformed' | 'unknown' | 'revoked' | 'tenant-disabled';
    };

export const viewApiKey = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  tenantId: row.tenantId,
  prefix: row.prefix,
  scopes: row.scopes,
  label: row.label,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Scopes as given (any order, repeats allowed), checked and in the contract's order. */
export function checkedScopes(given: readonly string[]): ApiKeyScope[] {
  const unknown = given.filter((scope) => !isApiKeyScope(scope));
  const problems: FieldProblem[] = unknown.map((scope) => ({
    field: 'scopes',
    rule: 'known-scope',
    message: `"${scope.slice(0, 64)}" is not a scope: use ${API_KEY_SCOPE_NAMES.join(', ')}.`,
  }));
  if (given.length === 0)
    problems.push({
      field: 'scopes',
      rule: 'min-items',
      message: `A key needs at least one scope: ${API_KEY_SCOPE_NAMES.join(', ')}.`,
    });
  if (problems.length) throw invalidRequest(problems);
  return API_KEY_SCOPE_NAMES.filter((scope) => given.includes(scope));
}

/** A label as given: trimmed, one line, at most 200 characters; none when empty. */
export function checkedLabel(given: string | undefined): string | null {
  const label = given?.trim() ?? '';
  const problem =
    refusedCharacters('label', label) ??
    (label.length > MAX_LABEL_LENGTH
      ? { field: 'label', rule: 'max-length', message: `A label has at most ${MAX_LABEL_LENGTH} characters.` }
      : undefined);
  if (problem) throw invalidRequest([problem]);
  return label === '' ? null : label;
}

const tenantDisabled = (tenant: TenantRow) =>
  new ProblemError({
    status: 409,
    type: 'tenant-disabled',
    title: 'Tenant disabled',
    detail: `Tenant ${tenant.id} was disabled on ${tenant.disabledAt?.toISOString()}: it gets no new API keys.`,
  });

/**
 * Makes a key for `tenant` inside the caller's transaction. The prefix is random (64 bits); should
 * it ever collide with another key's, the unique index refuses it and the transaction fails.
 */
export async function issueApiKey(
  db: Queryable,
  clock: Clock,
  tenant: TenantRow,
  input: { scopes: readonly string[]; label?: string | undefined },
): Promise<IssuedApiKey> {
  const scopes = checkedScopes(input.scopes);
  const label = checkedLabel(input.label);
  if (tenant.disabledAt) throw tenantDisabled(tenant);
  const secret = generateApiKeySecret();
  const row = await insertApiKey(db, {
    id: randomUUID(),
    tenantId: tenant.id,
    prefix: secret.prefix,
    secretHash: secret.hash,
    scopes,
    label,
    createdAt: clock(),
  });
  return { apiKey: viewApiKey(row), key: secret.key };
}

export interface ApiKeyService {
  /** A new key for the tenant; the key is in the answer, once. */
  create(
    tenantId: string,
    input: { scopes: readonly string[]; label?: string | undefined },
  ): Promise<IssuedApiKey>;
  /** The tenant's keys, oldest first, revoked ones included; 404 for an unknown tenant. */
  list(tenantId: string): Promise<ApiKeyView[]>;
  /** Revokes a key at once (the next request with it is refused); revoking twice changes nothing. */
  revoke(keyId: string): Promise<{ apiKey: ApiKeyView; alreadyRevoked: boolean }>;
  /** Who `key` (what followed `Bearer `) is, or why it is refused. */
  authenticate(key: string): Promise<ApiKeyAuthentication>;
}

export function createApiKeyService({ db, clock }: { db: Database; clock: Clock }): ApiKeyService {
  const findApiKeyByPrefix = apiKeyByPrefixLookup(db);
  return {
    async create(tenantId, input) {
      // What was asked is checked before anything is looked up: a bad scope is said as such.
      checkedScopes(input.scopes);
      checkedLabel(input.label);
      return db.transaction(async (tx) => {
        const tenant = await findTenant(tx, tenantId, { lock: 'share' });
        if (!tenant) throw notFound(`Tenant ${tenantId.slice(0, 64)}`);
        return issueApiKey(tx, clock, tenant, input);
      });
    },

    async list(tenantId) {
      const tenant = await findTenant(db, tenantId);
      if (!tenant) throw notFound(`Tenant ${tenantId.slice(0, 64)}`);
      return (await listApiKeys(db, tenant.id)).map(viewApiKey);
    },

    async revoke(keyId) {
      const revoked = await revokeApiKey(db, keyId, clock());
      if (!revoked) throw notFound(`API key ${keyId.slice(0, 64)}`);
      return { apiKey: viewApiKey(revoked.row), alreadyRevoked: !revoked.changed };
    },

    async authenticate(key) {
      const prefix = apiKeyPrefixOf(key);
      if (!prefix) return { ok: false, reason: 'malformed' };
      const found = await findApiKeyByPrefix(prefix);
      // No cache: every request reads the key, so a revocation holds from the next request on.
      if (!found || !apiKeyMatches(key, found.key.secretHash)) return { ok: false, reason: 'unknown' };
      if (found.key.revokedAt) return { ok: false, reason: 'revoked' };
      if (found.tenant.disabledAt) return { ok: false, reason: 'tenant-disabled' };
      const now = clock();
      const before = new Date(now.getTime() - LAST_USE_RESOLUTION_MS);
      if (!found.key.lastUsedAt || found.key.lastUsedAt < before) {
        await touchApiKey(db, found.key.id, now, before);
      }
      return {
        ok: true,
        principal: {
          tenant: { id: found.tenant.id, name: found.tenant.name },
          apiKey: {
            id: found.key.id,
            prefix: found.key.prefix,
            scopes: found.key.scopes,
            label: found.key.label,
          },
        },
      };
    },
  };
}
