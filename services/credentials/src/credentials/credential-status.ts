import { notFound } from '@sts/shared';
import type { Queryable } from '../db/database.ts';
import type { CredentialEvent } from '../events/credential-events.ts';
import type { CallContext, CredentialAudit } from './credential-audit.ts';
import type { CredentialServiceDeps } from './credential-service-deps.ts';
import { findCredential, updateCredential } from './credential-store.ts';
import type { Verdict } from './credential-test.ts';
import { isUsable } from './credential-view.ts';
import type { CredentialRow } from './credentials-table.ts';

const DAY_MS = 86_400_000;

export type StatusTransitions = ReturnType<typeof createStatusTransitions>;

/**
 * How a credential's status moves: the expected password expiry and its warning window, the event
 * a status announces, and what a verdict (a test's or a sender's report) does to the credential.
 */
export function createStatusTransitions(
  deps: Pick<CredentialServiceDeps, 'db' | 'clock' | 'policy'> & { audit: CredentialAudit },
) {
  const { db, clock, policy, audit } = deps;
  const maxWarningDays = Math.max(0, ...policy.expiryWarningDays);

  const expiresAt = (changedAt: Date | null, validityDays: number | null) =>
    changedAt ? new Date(changedAt.getTime() + (validityDays ?? policy.passwordValidityDays) * DAY_MS) : null;

  /** `valid`, or `password_expiring` when the expected expiry is inside the warning window. */
  const healthyStatus = (row: Pick<CredentialRow, 'passwordExpiresAt'>, now: Date) =>
    row.passwordExpiresAt && now.getTime() >= row.passwordExpiresAt.getTime() - maxWarningDays * DAY_MS
      ? ('password_expiring' as const)
      : ('valid' as const);

  const statusEvent = (
    row: CredentialRow,
    type: CredentialEvent['type'] = 'credential.status-changed',
  ): CredentialEvent => ({
    type,
    tenantId: row.tenantId,
    credentialId: row.id,
    status: row.status,
    usable: isUsable(row.status),
    reason: row.statusReason,
    at: clock(),
  });

  /**
   * Applies a verdict (from a test or a sender's report) to a credential, unless the credential's
   * secrets changed since the attempt was made. Returns the row after, and whether anything applied.
   */
  async function applyVerdict(
    context: CallContext,
    id: string,
    verdict: Verdict,
    attemptedVersion: number,
    action: 'credential.tested' | 'credential.authentication-failure-reported',
    recordTest: boolean,
    /** Runs in the same transaction, on the locked credential, when the verdict applies. */
    whileApplying?: (tx: Queryable, current: CredentialRow) => Promise<void>,
  ): Promise<{ row: CredentialRow; applied: boolean; statusChanged: boolean }> {
    const now = clock();
    return db.transaction(async (tx) => {
      const current = await findCredential(tx, context.scope, id, { lock: 'update' });
      if (!current) throw notFound('The credential');
      const stale = current.secretsVersion !== attemptedVersion;
      const changes: Partial<CredentialRow> = {};
      if (recordTest && !stale) {
        changes.lastTest = {
          at: now.toISOString(),
          outcome: verdict.outcome,
          ...(verdict.sts ? { stsCode: verdict.sts.code, stsDescription: verdict.sts.description } : {}),
        };
      }
      let statusChanged = false;
      if (!stale) {
        if (verdict.effect.kind === 'healthy') {
          const status = healthyStatus(current, now);
          if (status !== current.status || current.statusReason) {
            Object.assign(changes, { status, statusReason: null, statusChangedAt: now });
            statusChanged = status !== current.status;
          }
          Object.assign(changes, { testsPaused: null, testsPausedUntil: null });
        } else if (verdict.effect.kind === 'unusable') {
          const { status, reason } = verdict.effect;
          if (status !== current.status || reason !== current.statusReason) {
            Object.assign(changes, { status, statusReason: reason, statusChangedAt: now });
            statusChanged = status !== current.status;
          }
          changes.lastAuthFailureAt = now;
          if (verdict.pauseTests === 'until-changed')
            Object.assign(changes, { testsPaused: 'until-changed', testsPausedUntil: null });
          else if (verdict.pauseTests === 'timed') {
            Object.assign(changes, {
              testsPaused: 'timed',
              testsPausedUntil: new Date(now.getTime() + policy.testPauseAfterFailureMs),
            });
          }
        }
      }
      if (!stale) await whileApplying?.(tx, current);
      const row =
        Object.keys(changes).length > 0
          ? await updateCredential(tx, id, { ...changes, updatedAt: now })
          : current;
      await audit(tx, context, action, row, {
        outcome: verdict.outcome,
        ...(verdict.sts ? { stsCode: verdict.sts.code } : {}),
        applied: !stale,
        ...(stale ? { staleSecretsVersion: attemptedVersion } : {}),
        ...(statusChanged ? { statusFrom: current.status, statusTo: row.status } : {}),
      });
      return {
        row,
        applied: !stale,
        statusChanged: statusChanged || row.statusReason !== current.statusReason,
      };
    });
  }

  return { expiresAt, healthyStatus, statusEvent, applyVerdict };
}
