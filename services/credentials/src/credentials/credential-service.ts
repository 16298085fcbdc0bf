import { randomUUID } from 'node:crypto';
import {
  type CredentialKind,
  type CredentialStatus,
  invalidRequest,
  notFound,
  ProblemError,
} from '@sts/shared';
import { createLoginBudget, isFailedLogin } from '../logins/login-budget.ts';
import { readPkcs12 } from './client-certificate.ts';
import { type CallContext, createCredentialAudit } from './credential-audit.ts';
import { isLabelTaken, labelTaken, refuseOperatorFields } from './credential-problems.ts';
import { createCredentialSecretReader, hintsOf, secretValues, wipe } from './credential-secrets.ts';
import type { CredentialServiceDeps } from './credential-service-deps.ts';
import { createStatusTransitions } from './credential-status.ts';
import {
  deleteCredential,
  findCredential,
  insertCredential,
  listCredentials,
  updateCredential,
} from './credential-store.ts';
import type { Verdict } from './credential-test.ts';
import { createCredentialTestRunner } from './credential-test-runner.ts';
import { checkCredentialChange, checkNewCredential, type Environment } from './credential-validation.ts';
import { credentialView, isUsable } from './credential-view.ts';
import type { CredentialRow } from './credentials-table.ts';
import { createTestLock } from './test-lock.ts';

export type { CallContext } from './credential-audit.ts';
export type { CredentialPolicy, CredentialServiceDeps } from './credential-service-deps.ts';

/**
 * The credentials a clinic keeps for the STS: create, read, change, delete, test, and a sender's
 * report of a refused login. This composes the parts: the audit line, the secrets in the vault, the
 * status transitions, the Redis test lock and the STS test call.
 */
export function createCredentialService(deps: CredentialServiceDeps) {
  const { db, clock, vault, events, metrics } = deps;
  const audit = createCredentialAudit(deps);
  const secrets = createCredentialSecretReader({ ...deps, audit });
  const { refuseUnreadable } = secrets;
  const status = createStatusTransitions({ ...deps, audit });
  const { expiresAt, healthyStatus, statusEvent, applyVerdict } = status;

  async function load(context: CallContext, id: string): Promise<CredentialRow> {
    const row = await findCredential(db, context.scope, id);
    if (!row) throw notFound('The credential');
    return row;
  }

  /** The failed-login budget of each STS login, shared by every credential that holds it. */
  const logins = createLoginBudget({
    db,
    clock,
    keyring: deps.keyring,
    metrics,
    budget: deps.policy.loginFailureBudget,
  });

  /** Credentials as the API shows them, each with its login's budget. */
  async function present(rows: CredentialRow[]) {
    const budgets = await logins.rowsOf(rows);
    const now = clock();
    return rows.map((row) => credentialView(row, logins.viewOf(budgets.get(row.id) ?? null), now));
  }
  const presentOne = async (row: CredentialRow) => (await present([row]))[0]!;

  const runner = createCredentialTestRunner({
    ...deps,
    audit,
    load,
    secrets,
    status,
    lock: createTestLock(deps),
    logins,
  });

  return {
    async create(context: CallContext, body: unknown) {
      if (context.scope.kind !== 'tenant') {
        throw new ProblemError({
          status: 403,
          type: 'forbidden',
          title: 'Not allowed',
          detail: 'Operators change their credentials; the clinic creates them.',
        });
      }
      const now = clock();
      const checked = checkNewCredential(body, now);
      if (!checked.ok) throw invalidRequest(checked.problems);
      const input = checked.value;
      const warnings = [...checked.warnings];
      if (input.secrets.password !== undefined) {
        // A password the STS already refused for this login would only count towards its lockout.
        await logins.refuseKnownPassword(
          context,
          {
            id: null,
            tenantId: context.scope.tenantId,
            environment: input.environment,
            stsUser: input.user ?? null,
          },
          input.secrets.password,
          'create',
        );
      }
      let certificateDetails = null;
      if (input.secrets.clientCertificate) {
        const bundle = readPkcs12(
          input.secrets.clientCertificate.pkcs12,
          input.secrets.clientCertificate.passphrase,
          now,
        );
        if (!bundle.ok) throw invalidRequest([bundle.problem]);
        certificateDetails = bundle.certificate.details;
      }
      const id = randomUUID();
      const hasPassword = input.secrets.password !== undefined;
      const changedAt = hasPassword ? (input.passwordChangedAt ?? now) : null;
      const row = {
        id,
        tenantId: context.scope.tenantId,
        label: input.label,
        environment: input.environment,
        kind: input.kind,
        stsUser: input.user ?? null,
        ownerKind: input.owner.kind,
        ownerTaxCode: input.owner.taxCode ?? null,
        regionCode: input.owner.kind === 'structure' ? input.owner.regionCode : null,
        aslCode: input.owner.kind === 'structure' ? input.owner.aslCode : null,
        ssaCode: input.owner.kind === 'structure' ? input.owner.ssaCode : null,
        entratelSiteCode: input.entratelSiteCode ?? null,
        vatNumbers: input.vatNumbers,
        sendingMode: input.sendingMode,
        maxInFlight: input.pacing.maxInFlight,
        requestsPerMinute: input.pacing.requestsPerMinute,
        status: 'untested' as const,
        statusReason: null,
        statusChangedAt: now,
        secretsVersion: 1,
        secretHints: hintsOf(input.secrets),
        passwordChangedAt: changedAt,
        passwordValidityDays: input.passwordValidityDays ?? null,
        passwordExpiresAt: expiresAt(changedAt, input.passwordValidityDays ?? null),
        clientCertificate: certificateDetails,
        createdAt: now,
        updatedAt: now,
      };
      const values = secretValues(input.secrets);
      try {
        await db.transaction(async (tx) => {
          await insertCredential(tx, row);
          await vault.create(tx, id, values, now);
          await audit(tx, context, 'credential.created', row, {
            kind: row.kind,
            environment: row.environment,
          });
        });
      } catch (error) {
        if (isLabelTaken(error)) throw labelTaken();
        throw error;
      } finally {
        wipe(values);
      }
      const created = await load(context, id);
      await events.publish(statusEvent(created, 'credential.created'));
      return { credential: await presentOne(created), warnings };
    },

    async get(context: CallContext, id: string) {
      return { credential: await presentOne(await load(context, id)) };
    },

    async list(context: CallContext, filter: { status?: CredentialStatus; after?: string; limit: number }) {
      const rows = await listCredentials(db, context.scope, filter);
      return {
        items: await present(rows),
        next: rows.length === filter.limit ? (rows.at(-1)?.id ?? null) : null,
      };
    },

    async update(context: CallContext, id: string, body: unknown) {
      const existing = await load(context, id);
      if (context.scope.kind === 'operator') refuseOperatorFields(body);
      const now = clock();
      const checked = checkCredentialChange(
        body,
        {
          kind: existing.kind as CredentialKind,
          environment: existing.environment as Environment,
          user: existing.stsUser,
        },
        now,
      );
      if (!checked.ok) throw invalidRequest(checked.problems);
      const change = checked.value;
      if (change.secrets.password !== undefined) {
        await logins.refuseKnownPassword(
          context,
          { ...existing, stsUser: change.user ?? existing.stsUser },
          change.secrets.password,
          'update',
        );
      }
      let certificateDetails: CredentialRow['clientCertificate'] | undefined;
      if (change.secrets.clientCertificate) {
        const bundle = readPkcs12(
          change.secrets.clientCertificate.pkcs12,
          change.secrets.clientCertificate.passphrase,
          now,
        );
        if (!bundle.ok) throw invalidRequest([bundle.problem]);
        certificateDetails = bundle.certificate.details;
      }
      const values = secretValues(change.secrets);
      const loginChanged =
        Object.keys(values).length > 0 || (change.user !== undefined && change.user !== existing.stsUser);
      let before: CredentialRow | undefined;
      let after: CredentialRow;
      try {
        after = await db.transaction(async (tx) => {
          const current = await findCredential(tx, context.scope, id, { lock: 'update' });
          if (!current) throw notFound('The credential');
          before = current;
          const updates: Partial<CredentialRow> = { updatedAt: now };
          if (change.label !== undefined) updates.label = change.label;
          if (change.user !== undefined) updates.stsUser = change.user;
          if (change.owner) {
            Object.assign(updates, {
              ownerKind: change.owner.kind,
              ownerTaxCode: change.owner.taxCode ?? null,
              regionCode: change.owner.kind === 'structure' ? change.owner.regionCode : null,
              aslCode: change.owner.kind === 'structure' ? change.owner.aslCode : null,
              ssaCode: change.owner.kind === 'structure' ? change.owner.ssaCode : null,
            });
          }
          if (change.entratelSiteCode !== undefined) updates.entratelSiteCode = change.entratelSiteCode;
          if (change.vatNumbers) updates.vatNumbers = change.vatNumbers;
          if (change.sendingMode) updates.sendingMode = change.sendingMode;
          if (change.pacing?.maxInFlight !== undefined) updates.maxInFlight = change.pacing.maxInFlight;
          if (change.pacing?.requestsPerMinute !== undefined)
            updates.requestsPerMinute = change.pacing.requestsPerMinute;
          if (change.passwordValidityDays !== undefined)
            updates.passwordValidityDays = change.passwordValidityDays;
          if (change.secrets.password !== undefined || change.passwordChangedAt) {
            updates.passwordChangedAt = change.passwordChangedAt ?? now;
          }
          if (updates.passwordChangedAt || updates.passwordValidityDays !== undefined) {
            updates.passwordExpiresAt = expiresAt(
              updates.passwordChangedAt ?? current.passwordChangedAt,
              updates.passwordValidityDays ?? current.passwordValidityDays,
            );
            updates.passwordWarnedDays = null;
          }
          if (certificateDetails)
            Object.assign(updates, { clientCertificate: certificateDetails, certificateWarnedDays: null });
          if (loginChanged) {
            // A new password, pincode or user is untested: senders wait for a green test, and a
            // failure reported on a lease of the old secrets no longer applies.
            Object.assign(updates, {
              secretsVersion: current.secretsVersion + 1,
              secretHints: hintsOf(change.secrets, current.secretHints),
              status: 'untested',
              statusReason: null,
              statusChangedAt: now,
              testsPaused: null,
              testsPausedUntil: null,
            });
          } else if (updates.passwordExpiresAt !== undefined && isUsable(current.status)) {
            updates.status = healthyStatus({ passwordExpiresAt: updates.passwordExpiresAt }, now);
          }
          const row = await updateCredential(tx, id, updates);
          if (Object.keys(values).length > 0) await vault.replace(tx, id, values, now);
          await audit(tx, context, 'credential.updated', row, {
            fields: Object.keys(body as object).sort(),
            ...(row.status !== current.status ? { statusFrom: current.status, statusTo: row.status } : {}),
          });
          return row;
        });
      } catch (error) {
        if (isLabelTaken(error)) throw labelTaken();
        // New secrets are written under the credential's data key, which must unwrap first.
        return refuseUnreadable(error, existing, context);
      } finally {
        wipe(values);
      }
      await events.publish(
        statusEvent(
          after,
          before && before.status !== after.status ? 'credential.status-changed' : 'credential.updated',
        ),
      );
      return { credential: await presentOne(after), warnings: checked.warnings };
    },

    async remove(context: CallContext, id: string) {
      const row = await db.transaction(async (tx) => {
        const current = await findCredential(tx, context.scope, id, { lock: 'update' });
        if (!current) throw notFound('The credential');
        // Destroying the data key first makes every copy of the ciphertexts (backups, replicas) useless.
        await vault.destroy(tx, id);
        await deleteCredential(tx, id);
        await audit(tx, context, 'credential.deleted', current, { label: current.label });
        return current;
      });
      await events.publish({ ...statusEvent(row, 'credential.deleted'), usable: false });
    },

    /** One harmless STS call, never two at once for one credential (see credential-test-runner.ts). */
    test: runner.test,

    /**
     * A sender's report that the STS refused a login or a credential code. The credential stops at
     * once (status, event), unless the lease it used predates a change of its secrets. A refused
     * login counts against the login's budget, and the password of the lease's secrets (still the
     * current ones) is remembered as failed; a stale report counts for nothing.
     */
    async reportFailure(
      context: CallContext,
      id: string,
      report: { leaseSecretsVersion: number; verdict: Verdict },
    ) {
      const { row, applied, statusChanged } = await applyVerdict(
        context,
        id,
        report.verdict,
        report.leaseSecretsVersion,
        'credential.authentication-failure-reported',
        false,
        async (tx, current) => {
          if (!isFailedLogin(report.verdict.outcome)) return;
          const read = await secrets.readSecretsIn(tx, current, ['password']);
          const password = read.ok ? read.values.password : undefined;
          try {
            await logins.countReported(tx, context, current, report.verdict.outcome, password);
          } finally {
            password?.fill(0);
          }
        },
      );
      metrics.increment('credentials_authentication_failures_total', { applied: String(applied) });
      if (statusChanged) await events.publish(statusEvent(row));
      return {
        applied,
        outcome: report.verdict.outcome,
        status: row.status,
        usable: isUsable(row.status),
        remedy: report.verdict.remedy,
      };
    },

    load,
    logins,
    readSecrets: secrets.readSecrets,
    readSecretsIn: secrets.readSecretsIn,
    refuseUnreadable,
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
