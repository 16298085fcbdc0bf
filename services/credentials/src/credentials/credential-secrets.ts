import { ProblemError } from '@sts/shared';
import type { Queryable } from '../db/database.ts';
import { DecryptionError } from '../vault/envelope-encryption.ts';
import { KeyringError } from '../vault/keyring.ts';
import type { SecretField, SecretValues } from '../vault/secret-vault.ts';
import type { CallContext, CredentialAudit } from './credential-audit.ts';
import type { CredentialServiceDeps } from './credential-service-deps.ts';
import type { CredentialSecrets } from './credential-validation.ts';
import { maskTail } from './credential-view.ts';
import type { CredentialRow, SecretHints } from './credentials-table.ts';

/** Plain text of a secret Buffer, for the one moment an STS call needs it. */
export const plain = (value: Buffer | undefined) => value?.toString('utf8');
export const wipe = (values: SecretValues) => {
  for (const value of Object.values(values)) value?.fill(0);
};

/** The secret fields a credential's kind keeps. */
export function secretValues(secrets: CredentialSecrets): SecretValues {
  const values: SecretValues = {};
  if (secrets.password !== undefined) values.password = Buffer.from(secrets.password, 'utf8');
  if (secrets.pincode !== undefined) values.pincode = Buffer.from(secrets.pincode, 'utf8');
  if (secrets.entratelPin !== undefined) values.entratelPin = Buffer.from(secrets.entratelPin, 'utf8');
  if (secrets.clientCertificate) {
    values.clientCertificatePkcs12 = secrets.clientCertificate.pkcs12;
    values.clientCertificatePassphrase = Buffer.from(secrets.clientCertificate.passphrase, 'utf8');
  }
  return values;
}

export function hintsOf(secrets: CredentialSecrets, previous: SecretHints = {}): SecretHints {
  return {
    ...previous,
    ...(secrets.password !== undefined ? { password: { set: true as const } } : {}),
    ...(secrets.pincode !== undefined ? { pincode: maskTail(secrets.pincode) } : {}),
    ...(secrets.entratelPin !== undefined ? { entratelPin: maskTail(secrets.entratelPin) } : {}),
    ...(secrets.clientCertificate ? { clientCertificate: { passphraseSet: true as const } } : {}),
  };
}

export type CredentialSecretReader = ReturnType<typeof createCredentialSecretReader>;

/** Reads a credential's secrets from the vault; one that cannot be read becomes an audited problem. */
export function createCredentialSecretReader(
  deps: Pick<CredentialServiceDeps, 'db' | 'vault' | 'metrics' | 'logger'> & { audit: CredentialAudit },
) {
  const { db, vault, metrics, logger, audit } = deps;

  /**
   * Reads secrets inside a caller's transaction. A secret that cannot be read comes back as the
   * vault's error, for `refuseUnreadable` once the transaction is over (auditing from inside it
   * would hold one connection while waiting for another).
   */
  async function readSecretsIn(
    tx: Queryable,
    row: CredentialRow,
    fields: readonly SecretField[],
  ): Promise<{ ok: true; values: SecretValues } | { ok: false; error: KeyringError | DecryptionError }> {
    try {
      return { ok: true, values: await vault.read(tx, row.id, fields) };
    } catch (error) {
      if (error instanceof KeyringError || error instanceof DecryptionError) return { ok: false, error };
      throw error;
    }
  }

  /** Reads secrets; one that cannot be read ends in `refuseUnreadable`. */
  async function readSecrets(
    row: CredentialRow,
    fields: readonly SecretField[],
    context: CallContext,
  ): Promise<SecretValues> {
    const read = await readSecretsIn(db, row, fields);
    return read.ok ? read.values : refuseUnreadable(read.error, row, context);
  }

  /**
   * Turns a vault failure into an audited, counted, logged problem that says nothing secret;
   * anything else is rethrown.
   */
  async function refuseUnreadable(
    error: unknown,
    row: Pick<CredentialRow, 'id' | 'tenantId'>,
    context: CallContext,
  ): Promise<never> {
    if (error instanceof KeyringError) {
      // A replica that lacks a master key another one already wraps with (a rotation rolled out
      // out of order): nothing is damaged, the configuration is behind.
      metrics.increment('credentials_master_key_missing_total');
      logger.error({ credentialId: row.id, problem: error.message }, 'credential master key not configured');
      await audit(db, context, 'credential.master-key-missing', row, { problem: error.message });
      throw new ProblemError({
        status: 503,
        type: 'master-key-unavailable',
        title: 'The credential cannot be read on this replica',
        detail:
          'The credential is encrypted under a master key this replica of the service is not configured with. Nothing is lost and the engineers are alerted: every replica must have a master key before it becomes active. Try again later.',
      });
    }
    if (error instanceof DecryptionError) {
      metrics.increment('credentials_secret_integrity_failures_total');
      logger.error({ credentialId: row.id, problem: error.message }, 'credential secrets do not decrypt');
      await audit(db, context, 'credential.secret-integrity-failure', row, { problem: error.message });
      throw new ProblemError({
        status: 500,
        type: 'secret-integrity',
        title: 'The credential cannot be read',
        detail:
          'The stored secrets of this credential do not decrypt (altered or moved data). The engineers are alerted; enter the secrets again to repair it.',
      });
    }
    throw error;
  }

  return { readSecretsIn, readSecrets, refuseUnreadable };
}
