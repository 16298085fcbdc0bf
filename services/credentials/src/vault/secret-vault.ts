import { and, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { credentialSecretsTable } from './credential-secrets-table.ts';
import { dataKeysTable } from './data-keys-table.ts';
import { DecryptionError, type EnvelopeEncryption } from './envelope-encryption.ts';

/** The secret fields a credential may hold; the field name is part of each ciphertext's AAD. */
export const SECRET_FIELDS = [
  'password',
  'pincode',
  'entratelPin',
  'clientCertificatePkcs12',
  'clientCertificatePassphrase',
] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];
export type SecretValues = Partial<Record<SecretField, Buffer>>;

/**
 * Reads and writes a credential's secrets under its data key. Plaintexts are Buffers so callers can
 * wipe them after use; data keys are wiped here as soon as the fields are done.
 */
export function createSecretVault(envelope: EnvelopeEncryption) {
  async function dataKeyOf(db: Queryable, credentialId: string): Promise<Buffer> {
    const [row] = await db.select().from(dataKeysTable).where(eq(dataKeysTable.credentialId, credentialId));
    if (!row) throw new DecryptionError('the data key (missing)');
    return envelope.unwrap(credentialId, {
      masterKeyVersion: row.masterKeyVersion,
      wrappedKey: row.wrappedKey,
    });
  }

  async function writeFields(
    db: Queryable,
    credentialId: string,
    dataKey: Buffer,
    secrets: SecretValues,
    now: Date,
  ) {
    for (const field of SECRET_FIELDS) {
      const plaintext = secrets[field];
      if (!plaintext) continue;
      const ciphertext = envelope.encryptField(dataKey, credentialId, field, plaintext);
      await db
        .insert(credentialSecretsTable)
        .values({ credentialId, field, ciphertext, encryptedAt: now })
        .onConflictDoUpdate({
          target: [credentialSecretsTable.credentialId, credentialSecretsTable.field],
          set: { ciphertext, encryptedAt: now },
        });
    }
  }

  return {
    /** A new credential: a fresh data key (wrapped with the active master key) and its fields. */
    async create(db: Queryable, credentialId: string, secrets: SecretValues, now: Date): Promise<void> {
      const { dataKey, wrapped } = envelope.newDataKey(credentialId);
      try {
        await db.insert(dataKeysTable).values({ credentialId, ...wrapped, createdAt: now, wrappedAt: now });
        await writeFields(db, credentialId, dataKey, secrets, now);
      } finally {
        dataKey.fill(0);
      }
    },

    /** Replaces the given fields; the others stay. */
    async replace(db: Queryable, credentialId: string, secrets: SecretValues, now: Date): Promise<void> {
      const dataKey = await dataKeyOf(db, credentialId);
      try {
        await writeFields(db, credentialId, dataKey, secrets, now);
      } finally {
        dataKey.fill(0);
      }
    },

    async remove(db: Queryable, credentialId: string, fields: readonly SecretField[]): Promise<void> {
      if (fields.length === 0) return;
      await db
        .delete(credentialSecretsTable)
        .where(
          and(
            eq(credentialSecretsTable.credentialId, credentialId),
            inArray(credentialSecretsTable.field, [...fields]),
          ),
        );
    },

    /** Decrypts the fields asked for that the credential holds. Throws `DecryptionError` on any tampering. */
    async read(db: Queryable, credentialId: string, fields: readonly SecretField[]): Promise<SecretValues> {
      const rows = await db
        .select()
        .from(credentialSecretsTable)
        .where(
          and(
            eq(credentialSecretsTable.credentialId, credentialId),
            inArray(credentialSecretsTable.field, [...fields]),
          ),
        );
      if (rows.length === 0) return {};
      const dataKey = await dataKeyOf(db, credentialId);
      try {
        const values: SecretValues = {};
        for (const row of rows) {
          const field = row.field as SecretField;
          values[field] = envelope.decryptField(dataKey, credentialId, field, row.ciphertext);
        }
        return values;
      } finally {
        dataKey.fill(0);
      }
    },

    /** Destroys the data key: every ciphertext of the credential becomes unreadable for good. */
    async destroy(db: Queryable, credentialId: string): Promise<void> {
      await db.delete(credentialSecretsTable).where(eq(credentialSecretsTable.credentialId, credentialId));
      await db.delete(dataKeysTable).where(eq(dataKeysTable.credentialId, credentialId));
    },
  };
}

export type SecretVault = ReturnType<typeof createSecretVault>;
