import type { Clock, Logger, Redis } from '@sts/shared';
import type { SanitelEncryptor } from '@sts/sts';
import type { Database } from '../db/database.ts';
import type { CredentialEvents } from '../events/credential-events.ts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import type { StsClientFactory } from '../sts/sts-client-factory.ts';
import type { Keyring } from '../vault/keyring.ts';
import type { SecretVault } from '../vault/secret-vault.ts';
import type { Environment } from './credential-validation.ts';

/** The knobs of the credential lifecycle, from configuration. */
export interface CredentialPolicy {
  /** Expected password lifetime when the credential does not say (STS: about 60–90 days). */
  passwordValidityDays: number;
  /** Days before the expected expiry at which warnings fire, e.g. [14, 7, 3, 1]. */
  expiryWarningDays: readonly number[];
  /** After a login failure, the next test waits this long (unless the credential changes first). */
  testPauseAfterFailureMs: number;
  /** Which harmless call tests a credential. */
  testCall: 'outcome-query' | 'point-query';
  /** Upper bound of one test, for the lock that keeps two tests of one credential apart. */
  testLockTtlMs: number;
  /**
   * Consecutive failed logins allowed per STS login, across every credential and tenant that holds
   * it (1–5; the STS locks a user at about 8). Spent: no attempt until a success or a reset.
   */
  loginFailureBudget: number;
}

/** What the credential service is built from; each of its parts takes the few of these it uses. */
export interface CredentialServiceDeps {
  db: Database;
  redis: Redis;
  logger: Logger;
  clock: Clock;
  vault: SecretVault;
  /** The master keys: the login budget's keyed hashes derive their keys from them. */
  keyring: Keyring;
  events: CredentialEvents;
  metrics: CredentialMetrics;
  stsClientFactory: StsClientFactory;
  sanitel: Record<Environment, SanitelEncryptor>;
  policy: CredentialPolicy;
}
