import { index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { credentialsSchema } from '../db/schema.ts';

/**
 * Every lease handed to a sender. A failure report names its lease: if the credential changed since
 * (a newer `secrets_version`), the report is about the old password and must not block the new one.
 * No foreign key: leases (like the audit log) outlive a deleted credential.
 */
export const leasesTable = credentialsSchema.table(
  'leases',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    credentialId: uuid('credential_id').notNull(),
    secretsVersion: integer('secrets_version').notNull(),
    purpose: text('purpose').notNull(),
    actor: text('actor').notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('leases_credential').on(table.credentialId, table.issuedAt)],
);
