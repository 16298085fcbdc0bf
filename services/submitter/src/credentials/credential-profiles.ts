import type { CredentialLease } from '@sts/shared';
import type { CredentialRefusal, CredentialsClient } from './credentials-client.ts';

/**
 * What routing needs of a credential (which environment and endpoints, whose documents, how it
 * sends, its pacing, whether it is usable), learnt from a lease and kept for a while, WITHOUT its
 * secrets: the profile is built field by field from the lease, so the login, the encrypted pincode,
 * the Entratel PIN and the client certificate are never referenced by the cache.
 */
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

export type ProfileResult = { ok: true; profile: CredentialProfile } | CredentialRefusal;

/** The profile of a lease: the fields listed, copied; nothing else of the lease is kept. */
export function profileOfLease(lease: CredentialLease): CredentialProfile {
  return {
    credentialId: lease.credentialId,
    environment: lease.environment,
    endpointVariant: lease.endpointVariant,
    kind: lease.kind,
    owner: { ...lease.owner },
    vatNumbers: [...lease.vatNumbers],
    sendingMode: lease.sendingMode,
    pacing: { maxInFlight: lease.pacing.maxInFlight, requestsPerMinute: lease.pacing.requestsPerMinute },
    status: lease.status,
  };
}

export interface CredentialProfilesOptions {
  client: Pick<CredentialsClient, 'lease'>;
  /** How long a profile (or a refusal about the credential) is kept (default 60 s). */
  ttlMs?: number;
  /** Most credentials kept at once; the oldest go first (default 10,000). */
  maxEntries?: number;
  /** The lease's purpose in the credentials service's audit log (default `routing profile`). */
  purpose?: string;
  clock?: () => number;
}

export interface CredentialProfiles {
  /**
   * The credential's profile, from the cache or from a new lease (one at a time per credential:
   * concurrent callers share it). A refusal about the credential (`unusable`, `budget-spent`,
   * `password-known-to-fail`, `not-found`) is kept as long as a profile; `unavailable` is not kept.
   * A profile is the tenant's only: another tenant asking for the same id gets its own answer.
   */
  profileOf(credentialId: string, tenantId: string): Promise<ProfileResult>;
  /** Keeps the profile of a lease taken elsewhere (a sender's), so routing sees the freshest. */
  remember(tenantId: string, lease: CredentialLease): void;
  /** Drops what is kept of a credential (on a credential event: changed, status, deleted). */
  forget(credentialId: string): void;
  /** Drops everything. */
  clear(): void;
}

interface Entry {
  result: ProfileResult;
  expiresAt: number;
}

export function createCredentialProfiles({
  client,
  ttlMs = 60_000,
  maxEntries = 10_000,
  purpose = 'routing profile',
  clock = Date.now,
}: CredentialProfilesOptions): CredentialProfiles {
  /** credential id → tenant id → entry. A Map keeps insertion order: the first is the oldest. */
  const entries = new Map<string, Map<string, Entry>>();
  /** Leases under way; `forget` marks them stale, so what they learnt before it is not kept. */
  const pending = new Map<
    string,
    { credentialId: string; marks: { stale: boolean }; promise: Promise<ProfileResult> }
  >();
  let size = 0;

  const pendingKey = (credentialId: string, tenantId: string) => `${credentialId}\u0000${tenantId}`;

  function store(credentialId: string, tenantId: string, result: ProfileResult) {
    let byTenant = entries.get(credentialId);
    if (!byTenant) {
      byTenant = new Map();
      entries.set(credentialId, byTenant);
    }
    if (!byTenant.has(tenantId)) size++;
    byTenant.set(tenantId, { result, expiresAt: clock() + ttlMs });
    while (size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      size -= entries.get(oldest.value)?.size ?? 0;
      entries.delete(oldest.value);
    }
  }

  function forget(credentialId: string) {
    size -= entries.get(credentialId)?.size ?? 0;
    entries.delete(credentialId);
    for (const lookup of pending.values())
      if (lookup.credentialId === credentialId) lookup.marks.stale = true;
  }

  return {
    profileOf(credentialId, tenantId) {
      const cached = entries.get(credentialId)?.get(tenantId);
      if (cached && cached.expiresAt > clock()) return Promise.resolve(cached.result);
      const key = pendingKey(credentialId, tenantId);
      const running = pending.get(key);
      if (running && !running.marks.stale) return running.promise;
      const marks = { stale: false };
      const promise = (async (): Promise<ProfileResult> => {
        const leased = await client.lease(credentialId, { tenantId, purpose });
        // The lease itself goes out of scope here: only its profile is kept.
        const result: ProfileResult = leased.ok
          ? { ok: true, profile: profileOfLease(leased.lease) }
          : leased;
        if (!marks.stale && (result.ok || result.reason !== 'unavailable'))
          store(credentialId, tenantId, result);
        return result;
      })().finally(() => {
        if (pending.get(key)?.marks === marks) pending.delete(key);
      });
      pending.set(key, { credentialId, marks, promise });
      return promise;
    },

    remember(tenantId, lease) {
      store(lease.credentialId, tenantId, { ok: true, profile: profileOfLease(lease) });
    },

    forget,

    clear() {
      for (const credentialId of [...entries.keys()]) forget(credentialId);
    },
  };
}
