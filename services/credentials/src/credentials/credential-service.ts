import { randomUUID } from 'node:crypto';
import { invalidRequest, type Logger, notFound, ProblemError, type Redis } from '@sts/shared';
import { encryptPincode, encryptTaxCode, type SanitelEncryptor } from '@sts/sts';
import { type Actor, type AuditAction, recordAudit } from '../audit/audit-log.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { CredentialEvent, CredentialEvents } from '../events/credential-events.ts';
import type { CredentialMetrics } from '../health/credential-metrics.ts';
import type { StsClientFactory, StsConnection, StsResult } from '../sts/sts-client-factory.ts';
import { DecryptionError } from '../vault/envelope-encryption.ts';
import { KeyringError } from '../vault/keyring.ts';
import type { SecretField, SecretValues, SecretVault } from '../vault/secret-vault.ts';
import { readPkcs12 } from './client-certificate.ts';
import {
  deleteCredential,
  findCredential,
  insertCredential,
  listCredentials,
  type Scope,
  updateCredential,
} from './credential-store.ts';
import { classifyStsFailure, failureInAnswer, VALID_VERDICT, type Verdict } from './credential-test.ts';
import {
  type CredentialKind,
  type CredentialSecrets,
  checkCredentialChange,
  checkNewCredential,
  type Environment,
} from './credential-validation.ts';
import { credentialView, isUsable, maskTail } from './credential-view.ts';
import type { CredentialRow, SecretHints } from './credentials-table.ts';

const DAY_MS = 86_400_000;

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
}

export interface CredentialServiceDeps {
  db: Database;
  redis: Redis;
  logger: Logger;
  clock: () => Date;
  vault: SecretVault;
  events: CredentialEvents;
  metrics: CredentialMetrics;
  stsClientFactory: StsClientFactory;
  sanitel: Record<Environment, SanitelEncryptor>;
  policy: CredentialPolicy;
}

/** Who is calling, on whose data, and why (for the audit log). */
export interface CallContext {
  scope: Scope;
  actor: Actor;
  requestId?: string;
  reason?: string;
}

/**
 * What an operator (CNS card holder) may change in their own credential: the secrets and when the
 * password changed. Everything else (owner, VAT numbers, pacing, sending mode, label, user) is the
 * clinic's configuration and must not move under it.
 */
const OPERATOR_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'pincode',
  'entratelPin',
  'clientCertificate',
  'passwordChangedAt',
]);

function refuseOperatorFields(body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const refused = Object.keys(body)
    .filter((field) => !OPERATOR_FIELDS.has(field))
    .map((field) => field.slice(0, 64));
  if (refused.length === 0) return;
  const allowed = [...OPERATOR_FIELDS].join(', ');
  throw new ProblemError({
    status: 403,
    type: 'forbidden',
    title: 'Not allowed',
    detail: `An operator may not change ${refused.join(', ')}: only ${allowed}. Ask the clinic for the rest.`,
    errors: refused.map((field) => ({
      field,
      rule: 'operator-may-not-change',
      message: `Only the clinic changes this field; an operator may change ${allowed}.`,
    })),
  });
}

const conflict = (type: string, title: string, detail: string) =>
  new ProblemError({ status: 409, type, title, detail });

/** Plain text of a secret Buffer, for the one moment an STS call needs it. */
const plain = (value: Buffer | undefined) => value?.toString('utf8');
const wipe = (values: SecretValues) => {
  for (const value of Object.values(values)) value?.fill(0);
};

/** The secret fields a credential's kind keeps. */
function secretValues(secrets: CredentialSecrets): SecretValues {
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

function hintsOf(secrets: CredentialSecrets, previous: SecretHints = {}): SecretHints {
  return {
    ...previous,
    ...(secrets.password !== undefined ? { password: { length: [...secrets.password].length } } : {}),
    ...(secrets.pincode !== undefined ? { pincode: maskTail(secrets.pincode) } : {}),
    ...(secrets.entratelPin !== undefined ? { entratelPin: maskTail(secrets.entratelPin) } : {}),
    ...(secrets.clientCertificate ? { clientCertificate: { passphraseSet: true as const } } : {}),
  };
}

/** Civil date in Europe/Rome, `YYYY-MM-DD`, as the STS counts days. */
export const romeDate = (at: Date) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Rome',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);

export function createCredentialService(deps: CredentialServiceDeps) {
  const { db, clock, vault, events, metrics, policy, logger } = deps;
  const maxWarningDays = Math.max(0, ...policy.expiryWarningDays);

  const expiresAt = (changedAt: Date | null, validityDays: number | null) =>
    changedAt ? new Date(changedAt.getTime() + (validityDays ?? policy.passwordValidityDays) * DAY_MS) : null;

  /** `valid`, or `password_expiring` when the expected expiry is inside the warning window. */
  const healthyStatus = (row: Pick<CredentialRow, 'passwordExpiresAt'>, now: Date) =>
    row.passwordExpiresAt && now.getTime() >= row.passwordExpiresAt.getTime() - maxWarningDays * DAY_MS
      ? ('password_expiring' as const)
      : ('valid' as const);

  const audit = (
    tx: Queryable,
    context: CallContext,
    action: AuditAction,
    row: Pick<CredentialRow, 'id' | 'tenantId'>,
    details: Record<string, unknown> = {},
  ) =>
    recordAudit(tx, {
      at: clock(),
      action,
      actor: context.actor,
      tenantId: row.tenantId,
      credentialId: row.id,
      reason: context.reason ?? null,
      requestId: context.requestId ?? null,
      details,
    });

  const statusEvent = (
    row: CredentialRow,
    type: CredentialEvent['type'] = 'credential.status-changed',
  ): CredentialEvent => ({
    type,
    tenantId: row.tenantId,
    credentialId: row.id,
    status: row.status,
    usable: isUsable(row.status),
    reason: row.statusReason,
    at: clock(),
  });

  async function load(context: CallContext, id: string): Promise<CredentialRow> {
    const row = await findCredential(db, context.scope, id);
    if (!row) throw notFound('The credential');
    return row;
  }

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

  /** Refuses a test while tests are paused after a login failure: each failed login counts towards the lockout. */
  async function refuseWhilePaused(context: CallContext, row: CredentialRow) {
    const now = clock();
    if (row.testsPaused === 'until-changed') {
      await audit(db, context, 'credential.test-refused', row, { paused: 'until-changed' });
      throw conflict(
        'test-paused',
        'Test paused until the credential changes',
        `The last attempt ended in "${row.statusReason}": trying again with the same secrets could lock the STS user. Update the credential (password, pincode or user), then test it.`,
      );
    }
    if (row.testsPausedUntil && row.testsPausedUntil.getTime() > now.getTime()) {
      await audit(db, context, 'credential.test-refused', row, {
        pausedUntil: row.testsPausedUntil.toISOString(),
      });
      const error = conflict(
        'test-paused',
        'Test paused after a login failure',
        `The last attempt ended in "${row.statusReason}". To protect the STS user from being locked, the next test can run after ${row.testsPausedUntil.toISOString()}, or at once after the credential is updated.`,
      );
      (error as ProblemError & { retryAfterSeconds?: number }).retryAfterSeconds = Math.ceil(
        (row.testsPausedUntil.getTime() - now.getTime()) / 1000,
      );
      throw error;
    }
  }

  /** The harmless STS call of a test: EsitoInvii over today, or InterrogazionePuntuale of a document that does not exist. */
  async function probe(row: CredentialRow, secrets: SecretValues): Promise<StsResult<unknown>> {
    const user = row.stsUser;
    const password = plain(secrets.password);
    const connection: StsConnection = {
      environment: row.environment as Environment,
      variant: row.kind === 'entratel' ? 'entrate' : row.kind === 'client-certificate' ? 'enti' : 'standard',
      ...(user && password !== undefined ? { auth: { user, password } } : {}),
      ...(row.kind === 'entratel' && row.entratelSiteCode ? { optional1: row.entratelSiteCode } : {}),
    };
    if (row.kind === 'client-certificate') {
      const bundle = readPkcs12(
        secrets.clientCertificatePkcs12 ?? Buffer.alloc(0),
        plain(secrets.clientCertificatePassphrase) ?? '',
        clock(),
      );
      if (bundle.ok) {
        connection.clientCertificate = {
          cert: [bundle.certificate.certificatePem, ...bundle.certificate.chainPem].join(''),
          key: bundle.certificate.privateKeyPem,
        };
      }
    }
    const encryptor = deps.sanitel[row.environment as Environment];
    const pin =
      row.kind === 'entratel'
        ? (plain(secrets.entratelPin) ?? '')
        : encryptPincode(encryptor, plain(secrets.pincode) ?? '');
    const client = deps.stsClientFactory(connection);
    try {
      const today = romeDate(clock());
      if (policy.testCall === 'point-query') {
        const owner = row.ownerTaxCode ? encryptTaxCode(encryptor, row.ownerTaxCode) : undefined;
        const sender =
          row.ownerKind === 'structure'
            ? {
                kind: 'structure' as const,
                regionCode: row.regionCode!,
                aslCode: row.aslCode!,
                ssaCode: row.ssaCode!,
                ...(owner ? { taxCode: owner } : {}),
              }
            : owner
              ? { kind: 'professional' as const, taxCode: owner }
              : undefined;
        return await client.queryDocument({
          encryptedPincode: pin,
          ...(sender ? { sender } : {}),
          documentId: {
            vatNumber: row.vatNumbers[0]!,
            issueDate: today,
            device: 1,
            number: 'VERIFICA-CREDENZIALI',
          },
        });
      }
      return await client.getOutcomes({ encryptedPincode: pin, from: today, to: today });
    } finally {
      client.close();
    }
  }

  /**
   * Applies a verdict (from a test or a sender's report) to a credential, unless the credential's
   * secrets changed since the attempt was made. Returns the row after, and whether anything applied.
   */
  async function applyVerdict(
    context: CallContext,
    id: string,
    verdict: Verdict,
    attemptedVersion: number,
    action: 'credential.tested' | 'credential.authentication-failure-reported',
    recordTest: boolean,
  ): Promise<{ row: CredentialRow; applied: boolean; statusChanged: boolean }> {
    const now = clock();
    return db.transaction(async (tx) => {
      const current = await findCredential(tx, context.scope, id, { lock: 'update' });
      if (!current) throw notFound('The credential');
      const stale = current.secretsVersion !== attemptedVersion;
      const changes: Partial<CredentialRow> = {};
      if (recordTest && !stale) {
        changes.lastTest = {
          at: now.toISOString(),
          outcome: verdict.outcome,
          ...(verdict.sts ? { stsCode: verdict.sts.code, stsDescription: verdict.sts.description } : {}),
        };
      }
      let statusChanged = false;
      if (!stale) {
        if (verdict.effect.kind === 'healthy') {
          const status = healthyStatus(current, now);
          if (status !== current.status || current.statusReason) {
            Object.assign(changes, { status, statusReason: null, statusChangedAt: now });
            statusChanged = status !== current.status;
          }
          Object.assign(changes, { testsPaused: null, testsPausedUntil: null });
        } else if (verdict.effect.kind === 'unusable') {
          const { status, reason } = verdict.effect;
          if (status !== current.status || reason !== current.statusReason) {
            Object.assign(changes, { status, statusReason: reason, statusChangedAt: now });
            statusChanged = status !== current.status;
          }
          changes.lastAuthFailureAt = now;
          if (verdict.pauseTests === 'until-changed')
            Object.assign(changes, { testsPaused: 'until-changed', testsPausedUntil: null });
          else if (verdict.pauseTests === 'timed') {
            Object.assign(changes, {
              testsPaused: 'timed',
              testsPausedUntil: new Date(now.getTime() + policy.testPauseAfterFailureMs),
            });
          }
        }
      }
      const row =
        Object.keys(changes).length > 0
          ? await updateCredential(tx, id, { ...changes, updatedAt: now })
          : current;
      await audit(tx, context, action, row, {
        outcome: verdict.outcome,
        ...(verdict.sts ? { stsCode: verdict.sts.code } : {}),
        applied: !stale,
        ...(stale ? { staleSecretsVersion: attemptedVersion } : {}),
        ...(statusChanged ? { statusFrom: current.status, statusTo: row.status } : {}),
      });
      return {
        row,
        applied: !stale,
        statusChanged: statusChanged || row.statusReason !== current.statusReason,
      };
    });
  }

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
        status: 'untested',
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
        if (
          (error as { cause?: { code?: string }; code?: string }).cause?.code === '23505' ||
          (error as { code?: string }).code === '23505'
        ) {
          throw conflict(
            'label-taken',
            'Label already used',
            'Another credential of this tenant has this label: choose a different label.',
          );
        }
        throw error;
      } finally {
        wipe(values);
      }
      const created = await load(context, id);
      await events.publish(statusEvent(created, 'credential.created'));
      return { credential: credentialView(created), warnings };
    },

    async get(context: CallContext, id: string) {
      return credentialView(await load(context, id));
    },

    async list(context: CallContext, filter: { status?: string; after?: string; limit: number }) {
      const rows = await listCredentials(db, context.scope, filter);
      return {
        credentials: rows.map(credentialView),
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
      return { credential: credentialView(after), warnings: checked.warnings };
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

    /**
     * Tests a credential with one harmless STS call. Never two at once for one credential, and none
     * while tests are paused after a login failure: each failed login counts towards the lockout.
     */
    async test(context: CallContext, id: string) {
      const checked = await load(context, id);
      await refuseWhilePaused(context, checked);
      const lockKey = `credentials:test-lock:${checked.id}`;
      const lockToken = randomUUID();
      const locked = await deps.redis.set(lockKey, lockToken, 'PX', policy.testLockTtlMs, 'NX');
      if (locked !== 'OK') {
        throw conflict(
          'test-in-progress',
          'A test is already running',
          'Another test of this credential is running: wait for its result.',
        );
      }
      try {
        // Again under the lock: a test that ended between the first check and the lock may have
        // paused tests after a failed login (another attempt now would count towards the lockout).
        const row = await load(context, id);
        await refuseWhilePaused(context, row);
        const secrets = await readSecrets(
          row,
          ['password', 'pincode', 'entratelPin', 'clientCertificatePkcs12', 'clientCertificatePassphrase'],
          context,
        );
        let result: StsResult<unknown>;
        try {
          result = await probe(row, secrets);
        } finally {
          wipe(secrets);
        }
        const failure = result.ok ? failureInAnswer(result.value) : result.failure;
        const verdict = failure ? classifyStsFailure(failure) : VALID_VERDICT;
        metrics.increment('credentials_tests_total', { outcome: verdict.outcome });
        const { row: after, statusChanged } = await applyVerdict(
          context,
          row.id,
          verdict,
          row.secretsVersion,
          'credential.tested',
          true,
        );
        if (statusChanged) await events.publish(statusEvent(after));
        return {
          outcome: verdict.outcome,
          status: after.status,
          usable: isUsable(after.status),
          remedy: verdict.remedy,
          ...(verdict.sts ? { sts: verdict.sts } : {}),
          testedAt: clock().toISOString(),
          testsPausedUntil:
            after.testsPaused === 'until-changed'
              ? 'until-changed'
              : (after.testsPausedUntil?.toISOString() ?? null),
        };
      } finally {
        await deps.redis.eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
          1,
          lockKey,
          lockToken,
        );
      }
    },

    /**
     * A sender's report that the STS refused a login or a credential code. The credential stops at
     * once (status, event), unless the lease it used predates a change of its secrets.
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
    readSecrets,
    readSecretsIn,
    refuseUnreadable,
  };
}

export type CredentialService = ReturnType<typeof createCredentialService>;
