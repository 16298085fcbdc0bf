import { primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { credentialsTable } from '../credentials/credentials-table.ts';
import { bytea } from '../db/bytea.ts';
import { credentialsSchema } from '../db/schema.ts';

/** The encrypted secrets of a credential, one row per field (password, pincode, …). */
export const credentialSecretsTable = credentialsSchema.table(
  'credential_secrets',
  {
    credentialId: uuid('credential_id')
      .notNull()
      .references(() => credentialsTable.id, { onDelete: 'cascade' }),
    field: text('field').notNull(),
    /** format version (1) ‖ iv (12) ‖ tag (16) ‖ ciphertext; AAD = credential id + field. */
    ciphertext: bytea('ciphertext').notNull(),
    encryptedAt: timestamp('encrypted_at', { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.credentialId, table.field] })],
);
