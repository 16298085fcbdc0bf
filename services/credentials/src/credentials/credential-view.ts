import type { LoginBudgetView } from '../logins/login-budget.ts';
import type { CredentialRow } from './credentials-table.ts';

/** Statuses in which senders may use a credential. */
export const USABLE_STATUSES = ['valid', 'password_expiring'] as const;
export const isUsable = (status: string) => (USABLE_STATUSES as readonly string[]).includes(status);

/**
 * A credential as the API shows it: metadata and masked hints, never a secret; with the failed-login
 * budget of its STS login (null when it sends no login).
 */
export function credentialView(row: CredentialRow, loginBudget: LoginBudgetView, now: Date) {
  const hints = row.secretHints;
  return {
    id: row.id,
    label: row.label,
    environment: row.environment,
    kind: row.kind,
    user: row.stsUser,
    owner:
      row.ownerKind === 'structure'
        ? {
            kind: 'structure',
            regionCode: row.regionCode,
            aslCode: row.aslCode,
            ssaCode: row.ssaCode,
            taxCode: row.ownerTaxCode,
          }
        : { kind: 'professional', taxCode: row.ownerTaxCode },
    ...(row.entratelSiteCode ? { entratelSiteCode: row.entratelSiteCode } : {}),
    vatNumbers: row.vatNumbers,
    sendingMode: row.sendingMode,
    pacing: { maxInFlight: row.maxInFlight, requestsPerMinute: row.requestsPerMinute },
    status: row.status,
    statusReason: row.statusReason,
    statusChangedAt: row.statusChangedAt.toISOString(),
    usable: isUsable(row.status),
    secrets: {
      // Set or not, nothing more: not even its length.
      ...(hints.password ? { password: { set: true } } : {}),
      ...(hints.pincode ? { pincode: { set: true, hint: hints.pincode } } : {}),
      ...(hints.entratelPin ? { entratelPin: { set: true, hint: hints.entratelPin } } : {}),
      ...(hints.clientCertificate ? { clientCertificate: { set: true } } : {}),
    },
    password: {
      changedAt: row.passwordChangedAt?.toISOString() ?? null,
      validityDays: row.passwordValidityDays,
      expectedExpiry: row.passwordExpiresAt?.toISOString() ?? null,
    },
    ...(row.clientCertificate ? { clientCertificate: row.clientCertificate } : {}),
    lastTest: row.lastTest ?? null,
    tests: testsView(row, now),
    loginBudget,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export type CredentialView = ReturnType<typeof credentialView>;

/**
 * Whether tests of a credential are paused after a login failure: `pausedUntil` is when a timed
 * pause ends (a timestamp, or null), `pausedReason` the failure that paused them (null: not paused).
 * A reason without an end means paused until the credential changes.
 */
export function testsView(row: CredentialRow, now: Date) {
  const timed =
    row.testsPaused === 'timed' && row.testsPausedUntil && row.testsPausedUntil.getTime() > now.getTime()
      ? row.testsPausedUntil
      : null;
  const paused = timed !== null || row.testsPaused === 'until-changed';
  return {
    pausedUntil: timed?.toISOString() ?? null,
    pausedReason: paused ? (row.statusReason ?? 'login-failure') : null,
  };
}

/** Shows the last two characters of a pincode or PIN: enough to tell two apart, too little to guess. */
export const maskTail = (secret: string) =>
  `${'•'.repeat(Math.max(secret.length - 2, 0))}${secret.slice(-2)}`;
