import type { CredentialLease } from '@sts/shared';
import { createStsClient, type DocumentRules, type StsClient, type TlsOptions } from '@sts/sts';
import type { CredentialAccess, CredentialProfile, CredentialRefusal } from './credential-access.ts';

/**
 * Pacing as the pacer grants it (services/submitter/src/pacing/). The slot's lease is renewed until
 * `release()`, which never rejects; a lease lost meanwhile does not stop the call (it cannot be
 * taken back): the pacer warns, and the session finishes and closes as usual.
 */
export interface Pacer {
  acquire(
    credentialId: string,
    pacing: { maxInFlight: number; requestsPerMinute: number },
  ): Promise<{ ok: true; release(): Promise<void> } | { ok: false; retryAfterMs: number }>;
}

/** One use of a credential: a lease, a client logged in with it, a pacing slot held until `close`. */
export interface StsSession {
  lease: CredentialLease;
  profile: CredentialProfile;
  client: StsClient;
  close(): Promise<void>;
}

export type SessionOpening =
  | { ok: true; session: StsSession }
  /** Over the credential's or the global budget: come back after `retryAfterMs` (no attempt used). */
  | { ok: false; paced: true; retryAfterMs: number }
  | ({ paced?: false } & CredentialRefusal);

export interface SessionDeps {
  credentials: Pick<CredentialAccess, 'profileOf' | 'lease'>;
  pacer: Pacer;
  baseUrls: Record<'test' | 'production', string>;
  ca?: Partial<Record<'test' | 'production', string>>;
  responseTimeoutMs: number;
  rulesFor(environment: 'test' | 'production'): DocumentRules;
}

/**
 * Opens a session for one STS call: the credential's profile (cached), a pacing slot (one call in
 * flight per credential by default, shared by every replica), then a lease (the secrets for this one
 * use). The slot is taken before the lease, so two replicas never both hold secrets of a credential
 * whose previous call has not told yet whether its password works.
 */
export function createSessions(deps: SessionDeps) {
  return {
    async open(tenantId: string, credentialId: string, purpose: string): Promise<SessionOpening> {
      const profiled = await deps.credentials.profileOf(credentialId, tenantId);
      if (!profiled.ok) return profiled;
      const slot = await deps.pacer.acquire(credentialId, profiled.profile.pacing);
      if (!slot.ok) return { ok: false, paced: true, retryAfterMs: slot.retryAfterMs };
      const leased = await deps.credentials
        .lease(credentialId, { tenantId, purpose })
        .catch((error: unknown) => {
          void slot.release();
          throw error;
        });
      if (!leased.ok) {
        await slot.release();
        return leased;
      }
      const lease = leased.lease;
      const environment = lease.environment;
      const ca = deps.ca?.[environment];
      const tls: TlsOptions = {
        ...(ca ? { ca } : {}),
        ...(lease.clientCertificate
          ? {
              clientCertificate: {
                cert: [lease.clientCertificate.certificatePem, ...lease.clientCertificate.chainPem].join(
                  '\n',
                ),
                key: lease.clientCertificate.privateKeyPem,
              },
            }
          : {}),
      };
      const client = createStsClient({
        baseUrl: deps.baseUrls[environment],
        variant: lease.endpointVariant,
        ...(lease.login ? { auth: lease.login } : {}),
        ...(lease.entratel?.siteCode ? { optional1: lease.entratel.siteCode } : {}),
        tls,
        responseTimeoutMs: deps.responseTimeoutMs,
        documentRules: deps.rulesFor(environment),
      });
      return {
        ok: true,
        session: {
          lease,
          profile: profiled.profile,
          client,
          async close() {
            client.close();
            await slot.release();
          },
        },
      };
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
