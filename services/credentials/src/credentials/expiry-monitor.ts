import type { Clock, Logger } from '@sts/shared';
import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Database } from '../db/database.ts';
import type { CredentialEvents } from '../events/credential-events.ts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import { isUsable } from './credential-view.ts';
import { type CredentialRow, credentialsTable } from './credentials-table.ts';
import {
  createSanitelCertificateMonitor,
  type SanitelCertificatesConfig,
} from './sanitel-certificate-monitor.ts';

const DAY_MS = 86_400_000;
const ACTOR = { kind: 'system', id: 'expiry-monitor' } as const;

export interface ExpiryMonitorDeps {
  db: Database;
  logger: Logger;
  clock: Clock;
  events: CredentialEvents;
  metrics: CredentialMetrics;
  /** Days before the expected expiry at which to warn, e.g. [14, 7, 3, 1]; 0 is added (the day itself). */
  warningDays: readonly number[];
  /** The SanitelCF certificates to watch too (sanitel-certificate-monitor.ts); none when absent. */
  sanitel?: SanitelCertificatesConfig;
}

/**
 * Warns before passwords (expected expiry) and client certificates (notAfter) run out: once per
 * threshold, each an event, a metric and an audit line. With `sanitel`, also before the SanitelCF
 * certificate in use runs out (a log line and a metric: it is the service's configuration, not a
 * clinic's credential). A password inside the window turns the
 * credential `password_expiring` (still usable); an expired client certificate makes it `invalid`.
 * Safe with several replicas: a warning is claimed with a conditional UPDATE, so only one sends it.
 */
export function createExpiryMonitor(deps: ExpiryMonitorDeps) {
  const { db, clock, events, metrics } = deps;
  const sanitel = deps.sanitel
    ? createSanitelCertificateMonitor({ logger: deps.logger, clock, metrics, config: deps.sanitel })
    : undefined;
  const thresholds = [...new Set([...deps.warningDays, 0])].sort((a, b) => b - a);
  const widest = thresholds[0] ?? 0;

  /** The smallest threshold `daysLeft` has reached, or undefined when it is outside every window. */
  const thresholdFor = (daysLeft: number) => {
    const reached = thresholds.filter((days) => daysLeft <= days);
    return reached.length ? Math.min(...reached) : undefined;
  };

  /** A claimed warning goes out as a metric and an event, plus a status event if the status moved. */
  async function announce(warning: {
    what: 'password' | 'certificate';
    row: CredentialRow;
    claimed: CredentialRow;
    threshold: number;
    daysLeft: number;
    expiresAt: Date;
    now: Date;
  }) {
    const { what, row, claimed, threshold, daysLeft, expiresAt, now } = warning;
    metrics.increment('credentials_expiry_warnings_total', { what, days: String(threshold) });
    await events.publish({
      type: what === 'password' ? 'credential.password-expiring' : 'credential.certificate-expiring',
      tenantId: claimed.tenantId,
      credentialId: claimed.id,
      status: claimed.status,
      usable: isUsable(claimed.status),
      at: now,
      daysLeft,
      expiresAt,
    });
    if (claimed.status !== row.status) {
      await events.publish({
        type: 'credential.status-changed',
        tenantId: claimed.tenantId,
        credentialId: claimed.id,
        status: claimed.status,
        usable: isUsable(claimed.status),
        reason: claimed.statusReason,
        at: now,
      });
    }
  }

  async function warnPassword(row: CredentialRow, now: Date): Promise<boolean> {
    const expiresAt = row.passwordExpiresAt!;
    const daysLeft = Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS);
    const threshold = thresholdFor(daysLeft);
    if (threshold === undefined) return false;
    const nextStatus = row.status === 'valid' ? 'password_expiring' : row.status;
    const claimed = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(credentialsTable)
        .set({
          passwordWarnedDays: threshold,
          status: nextStatus,
          ...(nextStatus !== row.status ? { statusChangedAt: now, statusReason: null } : {}),
          updatedAt: now,
        })
        .where(
          and(
            eq(credentialsTable.id, row.id),
            eq(credentialsTable.secretsVersion, row.secretsVersion),
            or(
              isNull(credentialsTable.passwordWarnedDays),
              sql`${credentialsTable.passwordWarnedDays} > ${threshold}`,
            ),
          ),
        )
        .returning();
      if (!updated) return undefined;
      await recordAudit(tx, {
        at: now,
        action: 'credential.password-expiring',
        actor: ACTOR,
        tenantId: row.tenantId,
        credentialId: row.id,
        details: { daysLeft, threshold, expectedExpiry: expiresAt.toISOString() },
      });
      return updated;
    });
    if (!claimed) return false;
    await announce({ what: 'password', row, claimed, threshold, daysLeft, expiresAt, now });
    return true;
  }

  async function warnCertificate(row: CredentialRow, now: Date): Promise<boolean> {
    const notAfter = new Date(row.clientCertificate!.notAfter);
    const daysLeft = Math.ceil((notAfter.getTime() - now.getTime()) / DAY_MS);
    const threshold = thresholdFor(daysLeft);
    if (threshold === undefined) return false;
    const expired = notAfter.getTime() <= now.getTime();
    const claimed = await db.transaction(async (tx) => {
      const [updated] = await tx
        .update(credentialsTable)
        .set({
          certificateWarnedDays: threshold,
          ...(expired && row.status !== 'invalid'
            ? {
                status: 'invalid',
                statusReason: 'certificate-expired',
                statusChangedAt: now,
                testsPaused: 'until-changed',
              }
            : {}),
          updatedAt: now,
        })
        .where(
          and(
            eq(credentialsTable.id, row.id),
            or(
              isNull(credentialsTable.certificateWarnedDays),
              sql`${credentialsTable.certificateWarnedDays} > ${threshold}`,
            ),
          ),
        )
        .returning();
      if (!updated) return undefined;
      await recordAudit(tx, {
        at: now,
        action: 'credential.certificate-expiring',
        actor: ACTOR,
        tenantId: row.tenantId,
        credentialId: row.id,
        details: { daysLeft, threshold, notAfter: notAfter.toISOString() },
      });
      return updated;
    });
    if (!claimed) return false;
    await announce({ what: 'certificate', row, claimed, threshold, daysLeft, expiresAt: notAfter, now });
    return true;
  }

  return {
    /** One pass over the credentials inside a warning window; returns how many warnings went out. */
    async runOnce(): Promise<{
      passwordWarnings: number;
      certificateWarnings: number;
      sanitelWarnings?: number;
    }> {
      // First, as it needs no database: a database outage must not silence it.
      const sanitelWarnings = sanitel?.runOnce();
      const now = clock();
      const horizon = new Date(now.getTime() + widest * DAY_MS);
      const passwords = await db
        .select()
        .from(credentialsTable)
        .where(
          and(
            isNotNull(credentialsTable.passwordExpiresAt),
            lt(credentialsTable.passwordExpiresAt, horizon),
            sql`${credentialsTable.status} in ('untested', 'valid', 'password_expiring')`,
          ),
        );
      let passwordWarnings = 0;
      for (const row of passwords) if (await warnPassword(row, now)) passwordWarnings++;

      const certificates = await db
        .select()
        .from(credentialsTable)
        .where(
          and(
            isNotNull(credentialsTable.clientCertificate),
            sql`(${credentialsTable.clientCertificate}->>'notAfter')::timestamptz < ${horizon.toISOString()}::timestamptz`,
          ),
        );
      let certificateWarnings = 0;
      for (const row of certificates) if (await warnCertificate(row, now)) certificateWarnings++;
      if (passwordWarnings + certificateWarnings > 0) {
        deps.logger.info({ passwordWarnings, certificateWarnings }, 'expiry warnings sent');
      }
      return {
        passwordWarnings,
        certificateWarnings,
        ...(sanitelWarnings === undefined ? {} : { sanitelWarnings }),
      };
    },
  };
}

export type ExpiryMonitor = ReturnType<typeof createExpiryMonitor>;
