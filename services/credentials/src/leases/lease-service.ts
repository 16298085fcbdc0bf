import { randomUUID } from 'node:crypto';
import { type CredentialLease, invalidRequest, ProblemError, refusedCharacters } from '@sts/shared';
import { encryptPincode, type SanitelEncryptor } from '@sts/sts';
import { and, eq } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import { readPkcs12 } from '../credentials/client-certificate.ts';
import { wipe } from '../credentials/credential-secrets.ts';
import type { CallContext, CredentialService } from '../credentials/credential-service.ts';
import { findCredential } from '../credentials/credential-store.ts';
import type { Environment } from '../credentials/credential-validation.ts';
import { isUsable } from '../credentials/credential-view.ts';
import type { Database } from '../db/database.ts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import { leasesTable } from './leases-table.ts';

export interface LeaseServiceDeps {
  db: Database;
  clock: () => Date;
  credentials: CredentialService;
  metrics: CredentialMetrics;
  sanitel: Record<Environment, SanitelEncryptor>;
  /** How long a lease is meant to be used (one sending run); informative for the sender. */
  leaseTtlMs: number;
}

const LEASED_FIELDS = [
  'password',
  'pincode',
  'entratelPin',
  'clientCertificatePkcs12',
  'clientCertificatePassphrase',
] as const;

/**
 * Leases: what a sender needs for one use of a credential, and nothing more. The pincode leaves
 * this service already encrypted with SanitelCF (as every STS call carries it); the plaintext
 * pincode never does. Entratel PINs travel in clear to the STS, so they are leased in clear.
 */
export function createLeaseService(deps: LeaseServiceDeps) {
  const { db, clock, credentials, metrics } = deps;

  return {
    async lease(context: CallContext, id: string, body: unknown) {
      const purpose = (body as { purpose?: unknown } | null)?.purpose;
      if (typeof purpose !== 'string' || purpose.trim().length === 0 || purpose.length > 200) {
        throw invalidRequest([
          {
            field: 'purpose',
            rule: 'required',
            message:
              'Say what the lease is for (1-200 characters, e.g. "upload batch 42" or "outcome poll"): it goes to the audit log.',
          },
        ]);
      }
      const refused = refusedCharacters('purpose', purpose);
      if (refused) throw invalidRequest([refused]);
      const now = clock();
      const result = await db.transaction(async (tx) => {
        // FOR SHARE: leases do not wait for each other, but a failure report (FOR UPDATE) and a
        // lease never interleave: no lease is handed out after the credential turned unusable.
        const row = await findCredential(tx, context.scope, id, { lock: 'share' });
        if (!row) return { refused: 'not-found' as const };
        if (!isUsable(row.status)) {
          await recordAudit(tx, {
            at: now,
            action: 'credential.lease-refused',
            actor: context.actor,
            tenantId: row.tenantId,
            credentialId: row.id,
            reason: purpose,
            requestId: context.requestId ?? null,
            details: { status: row.status, statusReason: row.statusReason },
          });
          return { refused: 'unusable' as const, row };
        }
        // Read under the same lock: a change of the secrets (FOR UPDATE) cannot commit in between,
        // so the secrets handed out are exactly those of the lease's `secretsVersion`.
        const read = await credentials.readSecretsIn(tx, row, LEASED_FIELDS);
        if (!read.ok) return { refused: 'unreadable' as const, row, error: read.error };
        const secrets = read.values;
        // No lease once the login's failed-login budget is spent or its password already failed:
        // the sender's call would be one more wrong login towards the STS lockout.
        const budgetRefusal = await credentials.logins.refuseLease(tx, context, row, secrets.password);
        if (budgetRefusal) {
          wipe(secrets);
          return { refused: 'login-budget' as const, row, problem: budgetRefusal };
        }
        const leaseId = randomUUID();
        const expiresAt = new Date(now.getTime() + deps.leaseTtlMs);
        try {
          await tx.insert(leasesTable).values({
            id: leaseId,
            tenantId: row.tenantId,
            credentialId: row.id,
            secretsVersion: row.secretsVersion,
            purpose,
            actor: context.actor.id,
            issuedAt: now,
            expiresAt,
          });
          await recordAudit(tx, {
            at: now,
            action: 'credential.leased',
            actor: context.actor,
            tenantId: row.tenantId,
            credentialId: row.id,
            reason: purpose,
            requestId: context.requestId ?? null,
            details: { leaseId, secretsVersion: row.secretsVersion },
          });
        } catch (error) {
          wipe(secrets);
          throw error;
        }
        return { refused: false as const, row, leaseId, expiresAt, secrets };
      });

      if (result.refused === 'not-found') {
        throw new ProblemError({
          status: 404,
          type: 'not-found',
          title: 'Not found',
          detail: 'The credential was not found.',
        });
      }
      if (result.refused === 'login-budget') {
        metrics.increment('credentials_leases_total', { result: 'refused' });
        throw result.problem;
      }
      if (result.refused === 'unreadable') {
        return credentials.refuseUnreadable(result.error, result.row, context);
      }
      if (result.refused === 'unusable') {
        metrics.increment('credentials_leases_total', { result: 'refused' });
        throw new ProblemError({
          status: 409,
          type: 'credential-unusable',
          title: 'The credential may not be used now',
          detail: `The credential is "${result.row.status}"${result.row.statusReason ? ` (${result.row.statusReason})` : ''}: keep its documents blocked until it is updated and tests green.`,
        });
      }

      const { row, leaseId, expiresAt, secrets } = result;
      try {
        const environment = row.environment as Environment;
        const password = secrets.password?.toString('utf8');
        let clientCertificate:
          | { certificatePem: string; privateKeyPem: string; chainPem: string[] }
          | undefined;
        if (row.kind === 'client-certificate' && secrets.clientCertificatePkcs12) {
          const bundle = readPkcs12(
            secrets.clientCertificatePkcs12,
            secrets.clientCertificatePassphrase?.toString('utf8') ?? '',
            now,
          );
          if (!bundle.ok) {
            throw new ProblemError({
              status: 409,
              type: 'credential-unusable',
              title: 'The client certificate cannot be used',
              detail: bundle.problem.message,
            });
          }
          const { certificatePem, privateKeyPem, chainPem } = bundle.certificate;
          clientCertificate = { certificatePem, privateKeyPem, chainPem };
        }
        metrics.increment('credentials_leases_total', { result: 'issued' });
        return {
          leaseId,
          credentialId: row.id,
          secretsVersion: row.secretsVersion,
          issuedAt: now.toISOString(),
          expiresAt: expiresAt.toISOString(),
          environment,
          kind: row.kind,
          endpointVariant:
            row.kind === 'entratel' ? 'entrate' : row.kind === 'client-certificate' ? 'enti' : 'standard',
          login: row.stsUser && password !== undefined ? { user: row.stsUser, password } : null,
          ...(secrets.pincode
            ? {
                encryptedPincode: encryptPincode(deps.sanitel[environment], secrets.pincode.toString('utf8')),
              }
            : {}),
          ...(row.kind === 'entratel'
            ? {
                entratel: {
                  pin: secrets.entratelPin?.toString('utf8') ?? null,
                  siteCode: row.entratelSiteCode,
                },
              }
            : {}),
          ...(clientCertificate ? { clientCertificate } : {}),
          owner:
            row.ownerKind === 'structure'
              ? {
                  kind: 'structure',
                  regionCode: row.regionCode,
                  aslCode: row.aslCode,
                  ssaCode: row.ssaCode,
                  taxCode: row.ownerTaxCode,
                }
              : // A professional's tax code is required on create and on change (credential-validation).
                { kind: 'professional', taxCode: row.ownerTaxCode! },
          vatNumbers: row.vatNumbers,
          sendingMode: row.sendingMode,
          pacing: { maxInFlight: row.maxInFlight, requestsPerMinute: row.requestsPerMinute },
          status: row.status,
        } satisfies CredentialLease;
      } finally {
        wipe(secrets);
      }
    },

    /** The lease a failure report names, if it was issued for this credential. */
    async findLease(tenantId: string, credentialId: string, leaseId: string) {
      const [lease] = await db
        .select()
        .from(leasesTable)
        .where(
          and(
            eq(leasesTable.id, leaseId),
            eq(leasesTable.credentialId, credentialId),
            eq(leasesTable.tenantId, tenantId),
          ),
        );
      return lease;
    },
  };
}

export type LeaseService = ReturnType<typeof createLeaseService>;
