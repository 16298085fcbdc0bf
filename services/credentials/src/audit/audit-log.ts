import type { Queryable } from '../db/database.ts';
import { auditLogTable } from './audit-log-table.ts';

export const AUDIT_ACTIONS = [
  'credential.created',
  'credential.updated',
  'credential.deleted',
  'credential.tested',
  'credential.test-refused',
  'credential.leased',
  'credential.lease-refused',
  'credential.authentication-failure-reported',
  'credential.status-changed',
  'credential.password-expiring',
  'credential.certificate-expiring',
  'credential.secret-integrity-failure',
  'credential.master-key-missing',
  'vault.master-key-rotated',
  'login.failure-counted',
  'login.attempt-refused',
  'login.budget-spent',
  'login.budget-reset',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: a service on a tenant's behalf (token), an operator (CNS certificate), or the system. */
export interface Actor {
  kind: 'service' | 'operator' | 'system';
  /** `gateway:api-key:42`, `operator:<codice fiscale>`, `expiry-monitor`. */
  id: string;
}

export interface AuditEntry {
  at: Date;
  action: AuditAction;
  actor: Actor;
  tenantId?: string | null;
  credentialId?: string | null;
  reason?: string | null;
  /** Ids, codes, names of changed fields: never a secret value. */
  details?: Record<string, unknown>;
  requestId?: string | null;
}

export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.insert(auditLogTable).values({
    at: entry.at,
    action: entry.action,
    actorKind: entry.actor.kind,
    actor: entry.actor.id,
    tenantId: entry.tenantId ?? null,
    credentialId: entry.credentialId ?? null,
    reason: entry.reason ?? null,
    details: entry.details ?? {},
    requestId: entry.requestId ?? null,
  });
}
