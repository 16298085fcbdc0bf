import { type Clock, ProblemError, systemClock } from '@sts/shared';

/** A cached list this young is not read again even when asked for a fresh one. */
const FRESH_ENOUGH_MS = 1000;

/** What the gateway needs to know of a tenant's credential to accept documents for it. */
export interface SenderCredential {
  id: string;
  environment: 'test' | 'production';
  /** The VAT numbers the credential sends documents for. */
  vatNumbers: readonly string[];
}

export interface CredentialDirectory {
  /**
   * The tenant's credentials; answers 503 (a `ProblemError`) when they cannot be read now. `fresh`:
   * read them again unless the cached list is under a second old (an event named a credential the
   * cached list lacks: it may have just been created).
   */
  credentialsOf(tenantId: string, options?: { fresh?: boolean }): Promise<readonly SenderCredential[]>;
  /** Forgets what is cached for a tenant (a credential was created, changed or deleted). */
  forget(tenantId: string): void;
}

/**
 * The tenant's credentials as the credentials service lists them, cached for `ttlMs` per tenant (one
 * look-up per tenant at a time, however many requests wait for it). Creating or deleting a credential
 * through the gateway forgets the tenant's entry at once; elsewhere it is seen within `ttlMs`.
 */
export function createCredentialDirectory(options: {
  list: (tenantId: string) => Promise<readonly SenderCredential[]>;
  ttlMs?: number;
  clock?: Clock;
}): CredentialDirectory {
  const ttlMs = options.ttlMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const cache = new Map<string, { at: number; credentials: Promise<readonly SenderCredential[]> }>();
  return {
    credentialsOf(tenantId, { fresh = false } = {}) {
      const now = clock().getTime();
      const cached = cache.get(tenantId);
      if (cached && now - cached.at < (fresh ? Math.min(ttlMs, FRESH_ENOUGH_MS) : ttlMs))
        return cached.credentials;
      const credentials = options.list(tenantId).catch(() => {
        cache.delete(tenantId);
        throw new ProblemError({
          status: 503,
          type: 'credentials-unavailable',
          title: 'Credentials temporarily unavailable',
          detail: "The tenant's credentials cannot be read right now; nothing was stored. Try again.",
        });
      });
      cache.set(tenantId, { at: now, credentials });
      return credentials;
    },
    forget: (tenantId) => void cache.delete(tenantId),
  };
}
