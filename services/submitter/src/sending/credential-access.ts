import type { CredentialLease } from '@sts/shared';

/** What routing and sending need of a credential, without its secrets (from a lease). */
export type CredentialProfile = Pick<
  CredentialLease,
  | 'credentialId'
  | 'environment'
  | 'endpointVariant'
  | 'kind'
  | 'owner'
  | 'vatNumbers'
  | 'sendingMode'
  | 'pacing'
  | 'status'
>;

/** Why a credential cannot be used now. `unavailable`: the credentials service, not the credential. */
export type CredentialRefusal = {
  ok: false;
  reason: 'unusable' | 'budget-spent' | 'password-known-to-fail' | 'not-found' | 'unavailable';
  retryAfterMs?: number;
  detail?: string;
};

/** The credentials service as the submitter uses it (services/submitter/src/credentials/). */
export interface CredentialAccess {
  profileOf(
    credentialId: string,
    tenantId: string,
  ): Promise<{ ok: true; profile: CredentialProfile } | CredentialRefusal>;
  lease(
    credentialId: string,
    options: { tenantId: string; purpose: string },
  ): Promise<{ ok: true; lease: CredentialLease } | CredentialRefusal>;
  reportFailure(
    credentialId: string,
    report: {
      tenantId: string;
      leaseId: string;
      failure:
        | { kind: 'authentication'; reason: string; faultString: string }
        | { kind: 'credential'; code: string; description: string };
    },
  ): Promise<void>;
  forget(credentialId: string): void;
}

/** A refusal that is about the credential (block its documents), not a passing outage (retry). */
export const blocksCredential = (refusal: CredentialRefusal) => refusal.reason !== 'unavailable';
