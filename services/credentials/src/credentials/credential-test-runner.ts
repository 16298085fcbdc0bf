import { type ProblemError, romeDate } from '@sts/shared';
import { encryptPincode, encryptTaxCode } from '@sts/sts';
import { judgeLogin, type LoginBudget } from '../logins/login-budget.ts';
import type { StsConnection, StsResult } from '../sts/sts-client-factory.ts';
import type { SecretValues } from '../vault/secret-vault.ts';
import { readPkcs12 } from './client-certificate.ts';
import type { CallContext, CredentialAudit } from './credential-audit.ts';
import { conflict } from './credential-problems.ts';
import { type CredentialSecretReader, plain, wipe } from './credential-secrets.ts';
import type { CredentialServiceDeps } from './credential-service-deps.ts';
import type { StatusTransitions } from './credential-status.ts';
import { classifyStsFailure, failureInAnswer, VALID_VERDICT, type Verdict } from './credential-test.ts';
import type { Environment } from './credential-validation.ts';
import { isUsable, testsView } from './credential-view.ts';
import type { CredentialRow } from './credentials-table.ts';
import type { TestLock } from './test-lock.ts';

export interface CredentialTestRunnerDeps
  extends Pick<
    CredentialServiceDeps,
    'db' | 'clock' | 'events' | 'metrics' | 'policy' | 'sanitel' | 'stsClientFactory'
  > {
  audit: CredentialAudit;
  load: (context: CallContext, id: string) => Promise<CredentialRow>;
  secrets: Pick<CredentialSecretReader, 'readSecrets'>;
  status: Pick<StatusTransitions, 'applyVerdict' | 'statusEvent'>;
  lock: TestLock;
  logins: Pick<LoginBudget, 'reserve' | 'settle' | 'rowsOf' | 'viewOf'>;
}

/** Tests a credential against the STS with one harmless call, and applies what it found. */
export function createCredentialTestRunner(deps: CredentialTestRunnerDeps) {
  const { db, clock, events, metrics, policy, audit, load, secrets: reader, status, lock, logins } = deps;

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
   * Tests a credential with one harmless STS call. Never two at once for one credential, none while
   * tests are paused after a login failure, and none once the login's failed-login budget is spent
   * or with a password that already failed for the login: each failed login counts towards the
   * lockout. The attempt is reserved in the login's budget before the call and settled after it.
   */
  async function test(context: CallContext, id: string) {
    const checked = await load(context, id);
    await refuseWhilePaused(context, checked);
    return lock.whileHeld(checked.id, async () => {
      // Again under the lock: a test that ended between the first check and the lock may have
      // paused tests after a failed login (another attempt now would count towards the lockout).
      const row = await load(context, id);
      await refuseWhilePaused(context, row);
      const secrets = await reader.readSecrets(
        row,
        ['password', 'pincode', 'entratelPin', 'clientCertificatePkcs12', 'clientCertificatePassphrase'],
        context,
      );
      let verdict: Verdict;
      try {
        const reservation = await logins.reserve(context, row, secrets.password);
        // Should this process die during the call, the reserved attempt stays counted: the safe side.
        let result: StsResult<unknown>;
        try {
          result = await probe(row, secrets);
        } catch (error) {
          // A throw here is local (the pincode's encryption, the certificate, building the
          // request): the STS client turns every transport error into a result, so nothing was
          // sent and the attempt is given back.
          if (reservation) {
            await logins.settle(context, row, reservation, {
              judgement: 'unknown',
              outcome: 'sts-refused-request',
              password: undefined,
            });
          }
          throw error;
        }
        const failure = result.ok ? failureInAnswer(result.value) : result.failure;
        verdict = failure ? classifyStsFailure(failure) : VALID_VERDICT;
        if (reservation) {
          // The password goes into the budget as a keyed hash only, before it is wiped.
          await logins.settle(context, row, reservation, {
            judgement: judgeLogin(result),
            outcome: verdict.outcome,
            password: secrets.password,
          });
        }
      } finally {
        wipe(secrets);
      }
      metrics.increment('credentials_tests_total', { outcome: verdict.outcome });
      const { row: after, statusChanged } = await status.applyVerdict(
        context,
        row.id,
        verdict,
        row.secretsVersion,
        'credential.tested',
        true,
      );
      if (statusChanged) await events.publish(status.statusEvent(after));
      const budgets = await logins.rowsOf([after]);
      return {
        outcome: verdict.outcome,
        status: after.status,
        usable: isUsable(after.status),
        remedy: verdict.remedy,
        ...(verdict.sts ? { sts: verdict.sts } : {}),
        testedAt: clock().toISOString(),
        tests: testsView(after, clock()),
        loginBudget: logins.viewOf(budgets.get(after.id) ?? null),
      };
    });
  }

  return { test };
}
