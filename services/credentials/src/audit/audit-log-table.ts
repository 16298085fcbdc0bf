import { bigint, index, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { credentialsSchema } from '../db/schema.ts';

/**
 * Who did what to which credential, when and why: every create, change, delete, test, lease,
 * reported failure and status change. Append-only; no secrets, ever (details are ids, codes, names
 * of changed fields).
 */
export const auditLogTable = credentialsSchema.table(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    tenantId: text('tenant_id'),
    credentialId: uuid('credential_id'),
    action: text('action').notNull(),
    /** `service` (a token's issuer), `operator` (a CNS holder), `system` (monitors, commands). */
    actorKind: text('actor_kind').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    requestId: text('request_id'),
  },
  (table) => [
    index('audit_log_credential').on(table.credentialId, table.at),
    index('audit_log_tenant').on(table.tenantId, table.at),
  ],
);
