import type { Clock, Logger } from '@sts/shared';
import { formatCertificateDate, type SanitelCertificateSet, sanitelCertificateAdvice } from '@sts/sts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import type { Environment } from './credential-validation.ts';

/** The SanitelCF certificates of each environment, and how the operator configures them. */
export interface SanitelCertificatesConfig {
  sets: Partial<Record<Environment, SanitelCertificateSet>>;
  /** Days before the expiry of the certificate in use at which to warn; 0 (the day) is added. Default 45, 30, 14, 7, 3, 1. */
  warningDays?: readonly number[];
  /** What the warning tells the operator to edit, per environment (e.g. `SANITEL_CERTIFICATE_FILES`). */
  configuration?: Partial<Record<Environment, string>>;
}

export const DEFAULT_SANITEL_WARNING_DAYS = [45, 30, 14, 7, 3, 1] as const;

/**
 * Watches the SanitelCF certificate each environment encrypts with (the newest valid one of its
 * set, `SanitelCertificateSet.choose`). Logs which one is in use at the first pass and whenever the
 * choice changes (a renewal configured ahead taking over); warns, naming the expiry date and what to
 * do, once per threshold before the certificate in use expires (unless a successor is configured),
 * and once a day while no configured certificate is valid. Warnings are counted in
 * `credentials_expiry_warnings_total{what="sanitel-certificate"}`. Per process: the certificates are
 * each replica's own configuration, so each replica says what it uses.
 */
export function createSanitelCertificateMonitor(deps: {
  logger: Logger;
  clock: Clock;
  metrics: CredentialMetrics;
  config: SanitelCertificatesConfig;
}) {
  const thresholds = [...new Set([...(deps.config.warningDays ?? DEFAULT_SANITEL_WARNING_DAYS), 0])].sort(
    (a, b) => b - a,
  );
  const widest = thresholds[0] ?? 0;
  const thresholdFor = (daysLeft: number) => Math.min(...thresholds.filter((days) => daysLeft <= days));
  const environments = Object.entries(deps.config.sets) as [Environment, SanitelCertificateSet][];
  /** Per environment: the certificate last seen in use, its basis, and the last warning given about it. */
  const seen = new Map<Environment, { fingerprint: string; basis: string; warned?: string }>();

  return {
    /** One look at every environment's certificates; returns how many warnings went out. */
    runOnce(): number {
      const now = deps.clock();
      let warnings = 0;
      for (const [environment, set] of environments) {
        const advice = sanitelCertificateAdvice(set, now, {
          warnWithinDays: widest,
          configuration:
            deps.config.configuration?.[environment] ?? 'the SanitelCF certificate configuration',
        });
        const details = {
          environment,
          serialNumber: advice.inUse.serialNumber,
          fingerprintSha256: advice.inUse.fingerprintSha256,
          validFrom: advice.inUse.validFrom.toISOString(),
          validTo: advice.inUse.validTo.toISOString(),
          source: advice.inUse.source,
          basis: advice.basis,
          daysLeft: advice.daysLeft,
          configured: set.certificates.length,
          ...(advice.successor
            ? {
                successor: {
                  serialNumber: advice.successor.serialNumber,
                  validFrom: advice.successor.validFrom.toISOString(),
                  sameKey: advice.successor.sameKey,
                },
              }
            : {}),
        };
        const previous = seen.get(environment);
        const sameChoice =
          previous?.fingerprint === advice.inUse.fingerprintSha256 && previous.basis === advice.basis;
        if (!sameChoice) {
          deps.logger.info(
            { sanitelCertificate: details },
            `SanitelCF (${environment}): encrypting with serial ${advice.inUse.serialNumber}, valid ${formatCertificateDate(advice.inUse.validFrom)} to ${formatCertificateDate(advice.inUse.validTo)}`,
          );
        }
        // What this pass would warn about: a threshold before expiry, or a day of fallback.
        const warning =
          advice.level === 'renewal-due'
            ? { key: `before:${thresholdFor(advice.daysLeft)}`, days: String(thresholdFor(advice.daysLeft)) }
            : advice.level === 'fallback'
              ? { key: `fallback:${advice.basis}:${advice.daysLeft}`, days: '0' }
              : undefined;
        const alreadyWarned = sameChoice && warning !== undefined && previous?.warned === warning.key;
        if (warning && !alreadyWarned) {
          deps.logger.warn({ sanitelCertificate: details }, advice.message);
          deps.metrics.increment('credentials_expiry_warnings_total', {
            what: 'sanitel-certificate',
            days: warning.days,
          });
          warnings++;
        }
        const warned = warning?.key ?? (sameChoice ? previous?.warned : undefined);
        seen.set(environment, {
          fingerprint: advice.inUse.fingerprintSha256,
          basis: advice.basis,
          ...(warned ? { warned } : {}),
        });
      }
      return warnings;
    },
  };
}

export type SanitelCertificateMonitor = ReturnType<typeof createSanitelCertificateMonitor>;
