import type { Clock } from '@sts/shared';
import { type Actor, type AuditAction, recordAudit } from '../audit/audit-log.ts';
import type { Queryable } from '../db/database.ts';
import type { Scope } from './credential-store.ts';
import type { CredentialRow } from './credentials-table.ts';

/** Who is calling, on whose data, and why (for the audit log). */
export interface CallContext {
  scope: Scope;
  actor: Actor;
  requestId?: string;
  reason?: string;
}

/** Writes one audit line about a credential, on behalf of a caller, inside `tx`. */
export type CredentialAudit = ReturnType<typeof createCredentialAudit>;

export function createCredentialAudit(deps: { clock: Clock }) {
  const { clock } = deps;
  return (
    tx: Queryable,
    context: CallContext,
    action: AuditAction,
    /** The credential (its id is null only when a create was refused before it existed). */
    row: Pick<CredentialRow, 'tenantId'> & { id: string | null },
    details: Record<string, unknown> = {},
  ) =>
    recordAudit(tx, {
      at: clock(),
      action,
      actor: context.actor,
      tenantId: row.tenantId,
      credentialId: row.id,
      reason: context.reason ?? null,
      requestId: context.requestId ?? null,
      details,
    });
}
