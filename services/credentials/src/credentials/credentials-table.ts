import type { CredentialKind, CredentialStatus, SendingMode, StsEnvironmentName } from '@sts/shared';
import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { credentialsSchema } from '../db/schema.ts';

/** What a credential's last test found, as shown to operators (no secrets, no STS payloads). */
export interface StoredTestResult {
  at: string;
  outcome: string;
  /** The STS code or fault name behind the outcome, when there was one. */
  stsCode?: string;
  /** The STS's own words, verbatim (never holds our secrets: the STS does not echo them). */
  stsDescription?: string;
}

/**
 * Masked hints of the secrets: enough to tell "is this the one I typed?", never enough to guess.
 * Of a password only that it is set (its length is not kept: migration 0007 dropped old ones).
 */
export interface SecretHints {
  password?: { set: true };
  pincode?: string;
  entratelPin?: string;
  clientCertificate?: { passphraseSet: true };
}

export interface StoredClientCertificate {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}

/**
 * One STS credential of a tenant: metadata only. Its secrets live encrypted in `credential_secrets`
 * under the data key in `data_keys`. The environment, kind, sending mode and status are typed with
 * the lease contract's names (packages/shared/src/contracts), which the check constraints enforce.
 */
export const credentialsTable = credentialsSchema.table(
  'credentials',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    label: text('label').notNull(),
    environment: text('environment').$type<StsEnvironmentName>().notNull(),
    kind: text('kind').$type<CredentialKind>().notNull(),
    /** The STS login: a codice fiscale, an 8-character structure code, or an Entratel user. */
    stsUser: text('sts_user'),
    ownerKind: text('owner_kind').notNull(),
    ownerTaxCode: text('owner_tax_code'),
    regionCode: text('region_code'),
    aslCode: text('asl_code'),
    ssaCode: text('ssa_code'),
    /** Entratel intermediaries: "codice fiscale-sede telematica", sent as `opzionale1`. */
    entratelSiteCode: text('entratel_site_code'),
    vatNumbers: text('vat_numbers').array().notNull(),
    sendingMode: text('sending_mode').$type<SendingMode>().notNull(),
    maxInFlight: integer('max_in_flight').notNull(),
    requestsPerMinute: integer('requests_per_minute').notNull(),
    status: text('status').$type<CredentialStatus>().notNull(),
    statusReason: text('status_reason'),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }).notNull(),
    /** Bumped whenever a secret or the user changes: a failure reported on an older lease is stale. */
    secretsVersion: integer('secrets_version').notNull().default(1),
    secretHints: jsonb('secret_hints').$type<SecretHints>().notNull(),
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }),
    passwordValidityDays: integer('password_validity_days'),
    passwordExpiresAt: timestamp('password_expires_at', { withTimezone: true }),
    /** The smallest warning threshold (days) already announced for the current password. */
    passwordWarnedDays: integer('password_warned_days'),
    clientCertificate: jsonb('client_certificate').$type<StoredClientCertificate>(),
    certificateWarnedDays: integer('certificate_warned_days'),
    lastTest: jsonb('last_test').$type<StoredTestResult>(),
    lastAuthFailureAt: timestamp('last_auth_failure_at', { withTimezone: true }),
    /** After an authentication failure no test runs before this (null: until the credential changes). */
    testsPausedUntil: timestamp('tests_paused_until', { withTimezone: true }),
    testsPaused: text('tests_paused'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('credentials_tenant_label').on(table.tenantId, table.label),
    index('credentials_tenant_status').on(table.tenantId, table.status),
    index('credentials_sts_user').on(table.stsUser),
    index('credentials_owner_tax_code').on(table.ownerTaxCode),
    check('credentials_environment', sql`${table.environment} in ('test', 'production')`),
    check('credentials_kind', sql`${table.kind} in ('basic', 'entratel', 'client-certificate')`),
    check(
      'credentials_status',
      sql`${table.status} in ('untested', 'valid', 'invalid', 'password_expiring', 'expired')`,
    ),
    check('credentials_sending_mode', sql`${table.sendingMode} in ('batch', 'realtime', 'auto')`),
  ],
);

export type CredentialRow = typeof credentialsTable.$inferSelect;
