import { ProblemError } from '@sts/shared';
import { asc, count, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import { type CallContext, createCredentialAudit } from '../credentials/credential-audit.ts';
import type { TestOutcome } from '../credentials/credential-test.ts';
import { credentialsTable } from '../credentials/credentials-table.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import type { Keyring } from '../vault/keyring.ts';
import { type FailedPassword, type LoginBudgetRow, loginBudgetsTable } from './login-budgets-table.ts';
import type { LoginJudgement } from './login-judgement.ts';
import { createLoginKeys, type Login, loginOf } from './login-keys.ts';
import { type AttemptKind, type Refusal, refusalProblem, STOPPED_REMEDY } from './login-refusals.ts';

export { isFailedLogin, judgeLogin, type LoginJudgement } from './login-judgement.ts';
export { type Login, loginOf } from './login-keys.ts';
export type { AttemptKind, RefusalReason } from './login-refusals.ts';

/**
 * The failed-login budget of each STS login (environment, user), shared by every credential of any
 * tenant that holds it. The STS disables a user after about 8 wrong passwords, and only the ASL or
 * the medical board can re-enable it; so consecutive failed logins are capped well below that, and
 * once the budget is spent no attempt is made with the login until a successful login or an
 * administrator's reset.
 *
 * Counting is pessimistic. Before an STS call the login's row is locked and one attempt reserved
 * (`failures + 1`, `in_flight + 1`), or the call is refused; after it, an authenticated call
 * forgives the failures (all but those settled while it was in flight), a failed login keeps its
 * place, and a call the STS certainly did not judge gives the place back. A process that dies
 * mid-call leaves its attempt counted. Passwords that failed are remembered by keyed hash and never
 * sent again for that login.
 */

/** A place reserved in a login's budget for one call; `settle` says how the call ended. */
export interface Reservation {
  login: Login;
  epoch: number;
  failureSeq: number;
}

/** Whose attempt it is, for the audit log: a credential (or, on create, a tenant only). */
interface Subject {
  id: string | null;
  tenantId: string;
}

export interface LoginBudgetDeps {
  db: Database;
  clock: () => Date;
  keyring: Keyring;
  metrics: CredentialMetrics;
  /** Consecutive failed logins allowed per STS login (1–5; the STS locks at about 8). */
  budget: number;
}

/** Failed passwords remembered per login: the newest ones, plenty for any honest history. */
const MAX_FAILED_PASSWORDS = 20;
/** Serialises the creation of login rows across replicas (whose active master keys may differ mid-rotation). */
const CREATE_LOCK = 0x53_54_4c_42;

export type LoginBudget = ReturnType<typeof createLoginBudget>;
export type LoginBudgetView = ReturnType<LoginBudget['viewOf']>;

export function createLoginBudget(deps: LoginBudgetDeps) {
  const { db, clock, metrics, budget } = deps;
  const keys = createLoginKeys(deps.keyring);
  const table = loginBudgetsTable;

  const audit = createCredentialAudit({ clock });

  const select = (tx: Queryable, login: Login) =>
    tx
      .select()
      .from(table)
      .where(inArray(table.loginKey, keys.candidateLoginKeys(login)))
      .orderBy(asc(table.loginKey));

  /**
   * Locks the login's row (`SELECT … FOR UPDATE`), creating it when missing. Rows are found under
   * every configured master key version and moved to the active one; two rows of one login (one
   * made by a replica that did not know an older key yet) are merged, counts added up.
   */
  async function lock(tx: Queryable, login: Login): Promise<LoginBudgetRow> {
    let rows = await select(tx, login).for('update');
    if (rows.length === 0) {
      await tx.execute(sql`select pg_advisory_xact_lock(${CREATE_LOCK}::bigint)`);
      rows = await select(tx, login).for('update');
    }
    if (rows.length === 0) {
      const now = clock();
      await tx
        .insert(table)
        .values({
          ...keys.activeLoginKey(login),
          environment: login.environment,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing();
      rows = await select(tx, login).for('update');
    }
    const [first, ...others] = rows;
    if (!first) throw new Error('login budget row vanished under its lock');
    const active = keys.activeLoginKey(login);
    if (others.length === 0 && first.loginKey === active.loginKey) return first;
    const merged: LoginBudgetRow = { ...first, ...active };
    for (const other of others) {
      merged.failures += other.failures;
      merged.inFlight += other.inFlight;
      merged.failureSeq = Math.max(merged.failureSeq, other.failureSeq);
      merged.epoch = Math.max(merged.epoch, other.epoch);
      merged.failedPasswords = [...merged.failedPasswords, ...other.failedPasswords].slice(
        -MAX_FAILED_PASSWORDS,
      );
    }
    await tx.delete(table).where(
      inArray(
        table.loginKey,
        rows.map((row) => row.loginKey),
      ),
    );
    await tx.insert(table).values(merged);
    return merged;
  }

  const update = (tx: Queryable, row: LoginBudgetRow, changes: Partial<LoginBudgetRow>) =>
    tx
      .update(table)
      .set({ ...changes, updatedAt: clock() })
      .where(sql`${table.loginKey} = ${row.loginKey}`);

  function refusalOf(row: LoginBudgetRow, login: Login, password: Buffer | undefined): Refusal | undefined {
    const counts = { failures: row.failures, inFlight: row.inFlight, budget };
    if (row.failures >= budget) return { reason: 'login-budget-spent', ...counts };
    if (password && keys.isKnown(login, password, row.failedPasswords)) {
      return { reason: 'password-known-to-fail', ...counts };
    }
    return undefined;
  }

  async function recordRefusal(
    tx: Queryable,
    context: CallContext,
    subject: Subject,
    refusal: Refusal,
    attempt: AttemptKind,
  ) {
    metrics.increment('credentials_login_attempts_refused_total', { reason: refusal.reason, attempt });
    await audit(tx, context, 'login.attempt-refused', subject, {
      attempt,
      reason: refusal.reason,
      failures: refusal.failures,
      inFlight: refusal.inFlight,
      budget,
    });
  }

  /**
   * Counts one failed login on a locked row: remembers the password, spends the budget when it is
   * reached (a locked account spends it at once: nothing more is worth trying), audits.
   */
  async function countFailure(
    tx: Queryable,
    context: CallContext,
    subject: Subject,
    row: LoginBudgetRow,
    failure: {
      login: Login;
      outcome: TestOutcome;
      password: Buffer | undefined;
      via: 'test' | 'report';
      failures: number;
      inFlight: number;
    },
  ) {
    const now = clock();
    const failures =
      failure.outcome === 'account-locked' ? Math.max(failure.failures, budget) : failure.failures;
    let failedPasswords = row.failedPasswords;
    if (failure.password && !keys.isKnown(failure.login, failure.password, failedPasswords)) {
      const entry = { ...keys.failedPassword(failure.login, failure.password), at: now.toISOString() };
      failedPasswords = [...failedPasswords, { ...entry, outcome: failure.outcome }].slice(
        -MAX_FAILED_PASSWORDS,
      );
    }
    const spent = failures >= budget;
    await update(tx, row, {
      failures,
      inFlight: failure.inFlight,
      failureSeq: row.failureSeq + 1,
      failedPasswords,
      lastFailureAt: now,
      lastFailureOutcome: failure.outcome,
      spentAt: spent ? (row.spentAt ?? now) : null,
    });
    metrics.increment('credentials_failed_logins_total', { outcome: failure.outcome, via: failure.via });
    const counts = { failures, inFlight: failure.inFlight, budget };
    await audit(tx, context, 'login.failure-counted', subject, {
      outcome: failure.outcome,
      via: failure.via,
      ...counts,
    });
    if (spent && !row.spentAt) await audit(tx, context, 'login.budget-spent', subject, counts);
  }

  return {
    /**
     * Reserves one attempt of the credential's login before an STS call, or refuses it (409, with
     * no call) when the budget is spent or the password already failed. Undefined for a credential
     * that sends no login.
     */
    async reserve(
      context: CallContext,
      credential: Subject & { environment: string; stsUser: string | null },
      password: Buffer | undefined,
    ): Promise<Reservation | undefined> {
      const login = loginOf(credential);
      if (!login) return undefined;
      const result = await db.transaction(async (tx) => {
        const row = await lock(tx, login);
        const refusal = refusalOf(row, login, password);
        if (refusal) {
          await recordRefusal(tx, context, credential, refusal, 'test');
          return { refusal, reservation: undefined };
        }
        await update(tx, row, { failures: row.failures + 1, inFlight: row.inFlight + 1 });
        return { refusal: undefined, reservation: { login, epoch: row.epoch, failureSeq: row.failureSeq } };
      });
      if (result.refusal) throw refusalProblem(result.refusal, credential.id);
      return result.reservation;
    },

    /** Settles a reservation once the call is over (see `judgeLogin`). */
    async settle(
      context: CallContext,
      credential: Subject,
      reservation: Reservation,
      ended: { judgement: LoginJudgement; outcome: TestOutcome; password: Buffer | undefined },
    ) {
      await db.transaction(async (tx) => {
        const row = await lock(tx, reservation.login);
        // After a reset, the reserved place is gone: nothing to give back, and a failure counts anew.
        const held = row.epoch === reservation.epoch;
        const inFlight = held ? Math.max(row.inFlight - 1, 0) : row.inFlight;
        if (ended.judgement === 'failed-login') {
          await countFailure(tx, context, credential, row, {
            login: reservation.login,
            outcome: ended.outcome,
            password: ended.password,
            via: 'test',
            failures: held ? row.failures : row.failures + 1,
            inFlight,
          });
        } else if (ended.judgement === 'unknown') {
          await update(tx, row, {
            inFlight,
            failures: held ? Math.max(row.failures - 1, inFlight) : row.failures,
          });
        } else {
          // The STS accepted the login. Failures settled while this call was in flight may have
          // reached the STS after it: they stay counted, as do the calls still in flight. A success
          // never raises the count: failures a reset (or an earlier success) already forgave stay
          // forgiven, though they were settled after this reservation.
          const failures = Math.min(
            held ? row.failures - 1 : row.failures,
            inFlight + (row.failureSeq - reservation.failureSeq),
          );
          await update(tx, row, {
            inFlight,
            failures,
            lastSuccessAt: clock(),
            spentAt: failures >= budget ? row.spentAt : null,
          });
        }
      });
    },

    /**
     * A sender's report that the STS refused the login of a lease (still the current secrets):
     * counts it and remembers the password. Runs inside the caller's transaction.
     */
    async countReported(
      tx: Queryable,
      context: CallContext,
      credential: Subject & { environment: string; stsUser: string | null },
      outcome: TestOutcome,
      password: Buffer | undefined,
    ) {
      const login = loginOf(credential);
      if (!login) return;
      const row = await lock(tx, login);
      await countFailure(tx, context, credential, row, {
        login,
        outcome,
        password,
        via: 'report',
        failures: row.failures + 1,
        inFlight: row.inFlight,
      });
    },

    /**
     * Whether a lease may be handed out (inside the lease's transaction): refused when the login's
     * budget is spent or its current password already failed. Every row of the login counts (two
     * mid-rotation, their counts added up as `lock` would merge them). Audited and counted when
     * refused.
     */
    async refuseLease(
      tx: Queryable,
      context: CallContext,
      credential: Subject & { environment: string; stsUser: string | null },
      password: Buffer | undefined,
    ): Promise<ProblemError | undefined> {
      const login = loginOf(credential);
      if (!login) return undefined;
      const rows = await select(tx, login);
      const [first, ...others] = rows;
      if (!first) return undefined;
      const all: LoginBudgetRow = {
        ...first,
        failures: rows.reduce((sum, row) => sum + row.failures, 0),
        inFlight: rows.reduce((sum, row) => sum + row.inFlight, 0),
        failedPasswords: [first, ...others].flatMap((row) => row.failedPasswords),
      };
      const refusal = refusalOf(all, login, password);
      if (!refusal) return undefined;
      await recordRefusal(tx, context, credential, refusal, 'lease');
      return refusalProblem(refusal, credential.id);
    },

    /**
     * Refuses (422, naming `password`) a create or change that sets a password the STS already
     * refused for that login; nothing is written.
     */
    async refuseKnownPassword(
      context: CallContext,
      credential: Subject & { environment: string; stsUser: string | null },
      password: string,
      attempt: 'create' | 'update',
    ) {
      const login = loginOf(credential);
      if (!login) return;
      const rows = await select(db, login);
      const secret = Buffer.from(password, 'utf8');
      try {
        if (!rows.some((row) => keys.isKnown(login, secret, row.failedPasswords))) return;
      } finally {
        secret.fill(0);
      }
      const refusal: Refusal = {
        reason: 'password-known-to-fail',
        failures: rows[0]?.failures ?? 0,
        inFlight: rows[0]?.inFlight ?? 0,
        budget,
      };
      await recordRefusal(db, context, credential, refusal, attempt);
      throw refusalProblem(refusal, credential.id, 422);
    },

    /**
     * An administrator's reset, once the right password is confirmed with the doctor: the count
     * goes back to zero (attempts in flight lose their place) and, on request, the failed
     * passwords are forgotten. Audited with the administrator's reason.
     */
    async reset(
      context: CallContext,
      credential: Subject & { environment: string; stsUser: string | null },
      options: { forgetFailedPasswords: boolean },
    ) {
      const login = loginOf(credential);
      if (!login) {
        throw new ProblemError({
          status: 409,
          type: 'no-login',
          title: 'This credential sends no login',
          detail: 'The credential has no STS user and password, so it has no login budget to reset.',
        });
      }
      await db.transaction(async (tx) => {
        const row = await lock(tx, login);
        const now = clock();
        await update(tx, row, {
          failures: 0,
          inFlight: 0,
          epoch: row.epoch + 1,
          spentAt: null,
          lastResetAt: now,
          lastResetBy: context.actor.id,
          ...(options.forgetFailedPasswords ? { failedPasswords: [] } : {}),
        });
        await audit(tx, context, 'login.budget-reset', credential, {
          failuresBefore: row.failures,
          inFlightBefore: row.inFlight,
          forgotFailedPasswords: options.forgetFailedPasswords,
          failedPasswordsKept: options.forgetFailedPasswords ? 0 : row.failedPasswords.length,
          budget,
        });
      });
      metrics.increment('credentials_login_budget_resets_total');
    },

    /** The budget rows of these credentials' logins, by credential id (none for a credential without a login). */
    async rowsOf(credentials: readonly { id: string; environment: string; stsUser: string | null }[]) {
      const wanted = credentials.flatMap((credential) => {
        const login = loginOf(credential);
        return login ? keys.candidateLoginKeys(login) : [];
      });
      const rows = wanted.length
        ? await db
            .select()
            .from(table)
            .where(inArray(table.loginKey, [...new Set(wanted)]))
        : [];
      const byKey = new Map(rows.map((row) => [row.loginKey, row]));
      return new Map(
        credentials.map((credential) => {
          const login = loginOf(credential);
          if (!login) return [credential.id, null] as const;
          const row = keys
            .candidateLoginKeys(login)
            .map((key) => byKey.get(key))
            .find(Boolean);
          return [credential.id, row ?? 'none'] as const;
        }),
      );
    },

    /** The login budget as the API shows it (null: the credential sends no login). */
    viewOf(row: LoginBudgetRow | 'none' | null) {
      if (row === null) return null;
      const failures = row === 'none' ? 0 : row.failures;
      const known = row === 'none' ? undefined : row;
      // Spent by failed logins: attempts still in progress hold a place (a new attempt is refused
      // while `failures >= budget`) but have not failed.
      const spent = failures - (known?.inFlight ?? 0) >= budget;
      return {
        /** Failed logins since the last successful one or reset, plus attempts in progress. */
        attemptsUsed: failures,
        inProgress: known?.inFlight ?? 0,
        budget,
        spent,
        lastFailure: known?.lastFailureAt
          ? { at: known.lastFailureAt.toISOString(), outcome: known.lastFailureOutcome }
          : null,
        /** Why sending with this login stopped, and what to do. */
        stopped: spent
          ? {
              reason: known?.lastFailureOutcome ?? 'login-budget-spent',
              since: known?.spentAt?.toISOString() ?? null,
              remedy: STOPPED_REMEDY,
            }
          : null,
        lastReset: known?.lastResetAt ? { at: known.lastResetAt.toISOString(), by: known.lastResetBy } : null,
      };
    },

    /**
     * Moves every login row still keyed under an older master key version to the active one (the
     * master key rotation runs it, so that removing the old key later loses no count). Logins are
     * those of the credentials; hashes of failed passwords keep their own version. Rows of logins
     * that no credential holds any more cannot be moved (the login is known only by its hash): they
     * are counted in `leftUnderOlderKeys`, and are lost with the older key.
     */
    async rekeyAll(): Promise<{ moved: number; leftUnderOlderKeys: number }> {
      const logins = await db
        .selectDistinct({ environment: credentialsTable.environment, stsUser: credentialsTable.stsUser })
        .from(credentialsTable)
        .where(isNotNull(credentialsTable.stsUser));
      let moved = 0;
      for (const credential of logins) {
        const login = loginOf(credential);
        if (!login) continue;
        const active = keys.activeLoginKey(login).loginKey;
        await db.transaction(async (tx) => {
          const rows = await select(tx, login).for('update');
          if (rows.length === 0 || (rows.length === 1 && rows[0]?.loginKey === active)) return;
          await lock(tx, login);
          moved++;
        });
      }
      const [left] = await db
        .select({ n: count() })
        .from(table)
        .where(ne(table.keyVersion, deps.keyring.activeVersion));
      return { moved, leftUnderOlderKeys: left?.n ?? 0 };
    },

    /**
     * Logins whose budget is spent by failed logins now (for the metrics gauge): attempts in
     * progress are not failures. A login with two rows (mid-rotation) counts once, its failures
     * added up as `lock` merges them.
     */
    async countSpent(source: Queryable) {
      const rows = await source
        .select({
          loginKey: table.loginKey,
          keyVersion: table.keyVersion,
          failed: sql<number>`${table.failures} - ${table.inFlight}`,
        })
        .from(table)
        .where(sql`${table.failures} - ${table.inFlight} > 0`);
      const active = deps.keyring.activeVersion;
      if (rows.every((row) => row.keyVersion === active)) {
        return rows.filter((row) => Number(row.failed) >= budget).length;
      }
      // Mid-rotation: group the rows by login (known from the credentials that hold it); a row
      // whose login no credential holds any more counts on its own.
      const logins = await source
        .selectDistinct({ environment: credentialsTable.environment, stsUser: credentialsTable.stsUser })
        .from(credentialsTable)
        .where(isNotNull(credentialsTable.stsUser));
      const loginOfKey = new Map<string, string>();
      for (const credential of logins) {
        const login = loginOf(credential);
        if (!login) continue;
        const [first, ...rest] = keys.candidateLoginKeys(login);
        if (!first) continue;
        for (const key of [first, ...rest]) loginOfKey.set(key, first);
      }
      const failed = new Map<string, number>();
      for (const row of rows) {
        const group = loginOfKey.get(row.loginKey) ?? row.loginKey;
        failed.set(group, (failed.get(group) ?? 0) + Number(row.failed));
      }
      return [...failed.values()].filter((n) => n >= budget).length;
    },
  };
}

export type { FailedPassword };
