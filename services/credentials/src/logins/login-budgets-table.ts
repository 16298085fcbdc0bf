import { sql } from 'drizzle-orm';
import { bigint, check, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { credentialsSchema } from '../db/schema.ts';

/** A password the STS refused for a login: its keyed hash only, never the password. */
export interface FailedPassword {
  /** Master key version the hash key was derived from (src/logins/login-keys.ts). */
  keyVersion: string;
  /** base64url HMAC-SHA256 of (environment, user, password). */
  hash: string;
  at: string;
  /** The test outcome it ended in: `wrong-or-expired-password`, `account-locked`. */
  outcome: string;
}

/**
 * The failed-login budget of one STS login, (environment, user), shared by every credential of any
 * tenant that holds it: the STS disables a user after about 8 wrong passwords, whoever sends them.
 * Keyed by a keyed hash of the login (the user is not stored here a second time). Counting is
 * pessimistic: an attempt is counted before the call (`failures`, `in_flight`) and only given back
 * when the STS certainly did not judge the login (src/logins/login-budget.ts).
 */
export const loginBudgetsTable = credentialsSchema.table(
  'login_budgets',
  {
    /** base64url HMAC-SHA256 of (environment, upper-cased user) under `key_version`'s derived key. */
    loginKey: text('login_key').primaryKey(),
    keyVersion: text('key_version').notNull(),
    environment: text('environment').notNull(),
    /** Failed logins since the last successful one or reset, plus the attempts in flight. */
    failures: integer('failures').notNull().default(0),
    /** Attempts counted in `failures` whose answer has not come back (yet: a crash leaves them). */
    inFlight: integer('in_flight').notNull().default(0),
    /** Every failed login ever counted: a success forgives only the failures settled before its call. */
    failureSeq: bigint('failure_seq', { mode: 'number' }).notNull().default(0),
    /** Bumped by an administrator's reset: attempts reserved before it no longer hold a place. */
    epoch: integer('epoch').notNull().default(0),
    failedPasswords: jsonb('failed_passwords').$type<FailedPassword[]>().notNull().default([]),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true }),
    lastFailureOutcome: text('last_failure_outcome'),
    /** When the budget was last spent (null while it is not). */
    spentAt: timestamp('spent_at', { withTimezone: true }),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastResetAt: timestamp('last_reset_at', { withTimezone: true }),
    lastResetBy: text('last_reset_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    check('login_budgets_counts', sql`${table.failures} >= 0 and ${table.inFlight} >= 0`),
    check('login_budgets_environment', sql`${table.environment} in ('test', 'production')`),
  ],
);

export type LoginBudgetRow = typeof loginBudgetsTable.$inferSelect;
