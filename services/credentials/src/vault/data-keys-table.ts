import { index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { credentialsTable } from '../credentials/credentials-table.ts';
import { bytea } from '../db/bytea.ts';
import { credentialsSchema } from '../db/schema.ts';

/**
 * One data key per credential, wrapped (AES-256-GCM) by a versioned master key. Deleting the row
 * destroys the key and with it every ciphertext of the credential (crypto-shredding).
 */
export const dataKeysTable = credentialsSchema.table(
  'data_keys',
  {
    credentialId: uuid('credential_id')
      .primaryKey()
      .references(() => credentialsTable.id, { onDelete: 'cascade' }),
    masterKeyVersion: text('master_key_version').notNull(),
    /** iv (12) ‖ tag (16) ‖ wrapped key (32). */
    wrappedKey: bytea('wrapped_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** When it was last wrapped: at creation, then at each master key rotation. */
    wrappedAt: timestamp('wrapped_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('data_keys_master_key_version').on(table.masterKeyVersion)],
);
